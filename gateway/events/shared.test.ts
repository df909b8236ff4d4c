/**
 * SharedSessionEvents over the in-process store: numbering per session, live delivery to session
 * and "*" listeners, replay after a seq within the bounded history, contract refusals, and a
 * store that is down losing the event with a report instead of failing the publisher.
 */
import { describe, expect, it } from "vitest";
import type { SessionEvent } from "../../contracts/index.js";
import { ManualClock } from "../clock.js";
import { PortcullisError } from "../errors.js";
import { MemoryStore } from "../store/memory.js";
import type { SharedStore } from "../store/types.js";
import { SharedSessionEvents } from "./shared.js";

const started = (call_id: string) => ({ call_id, tool: "workspace__read", decision: "allow" as const });

describe("SharedSessionEvents", () => {
  it("numbers per session, delivers live and replays after a seq", async () => {
    const clock = new ManualClock("2026-11-24T10:00:00.000Z");
    const events = new SharedSessionEvents(new MemoryStore({ clock }), { clock, historyLimit: 3 });
    const mine: SessionEvent[] = [];
    const all: SessionEvent[] = [];
    const off = events.subscribe("s1", (e) => mine.push(e));
    events.subscribe("*", (e) => all.push(e));
    for (let i = 1; i <= 4; i++) await events.publish("s1", "call.started", started(`c${i}`));
    await events.publish("s2", "call.started", started("other"));
    expect(mine.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(mine[0]).toEqual({
      v: 1,
      session: "s1",
      seq: 1,
      ts: "2026-11-24T10:00:00.000Z",
      kind: "call.started",
      data: started("c1"),
    });
    expect(all.map((e) => `${e.session}:${e.seq}`)).toEqual(["s1:1", "s1:2", "s1:3", "s1:4", "s2:1"]);
    // history keeps the last 3: a replay from 0 starts at 2 (the client sees the gap)
    expect((await events.since("s1", 0)).map((e) => e.seq)).toEqual([2, 3, 4]);
    expect((await events.since("s1", 3)).map((e) => e.seq)).toEqual([4]);
    expect(await events.since("nobody", 0)).toEqual([]);
    off();
    await events.publish("s1", "call.started", started("c5"));
    expect(mine).toHaveLength(4);
    events.close();
  });

  it("refuses malformed events at once", () => {
    const events = new SharedSessionEvents(new MemoryStore());
    expect(() => events.publish("*", "call.started", started("x"))).toThrow(PortcullisError);
    expect(() => events.publish("s", "call.started", { call_id: "x" } as never)).toThrow(
      /invalid call.started/,
    );
    expect(() => events.publish("s", "no.such.kind" as never, {} as never)).toThrow(
      /unknown session event kind/,
    );
  });

  it("loses an event the store cannot take, reports it and never rejects", async () => {
    const down = new MemoryStore();
    const failing: SharedStore = Object.assign(Object.create(down) as SharedStore, {
      appendLog: () =>
        Promise.reject(new PortcullisError("GW_ERR_STORE_UNAVAILABLE", "shared store unavailable: test")),
      onAppend: down.onAppend.bind(down),
    });
    const reported: string[] = [];
    const events = new SharedSessionEvents(failing, { onError: (_e, what) => reported.push(what) });
    await expect(events.publish("s", "call.started", started("x"))).resolves.toBeUndefined();
    expect(reported).toEqual(["call.started of session s not stored"]);
  });

  it("decodes an appended event only when this instance has a listener for it", async () => {
    const store = new MemoryStore();
    const reported: string[] = [];
    const events = new SharedSessionEvents(store, { onError: (_e, what) => reported.push(what) });
    await store.appendLog("session:s", "not json", 10); // nobody listens: not even read
    expect(reported).toEqual([]);
    const seen: SessionEvent[] = [];
    const off = events.subscribe("s", (e) => seen.push(e));
    await store.appendLog("session:s", "not json", 10);
    expect(reported).toEqual(["unreadable event 2 of session s"]);
    await events.publish("s", "call.started", started("x"));
    expect(seen.map((e) => e.seq)).toEqual([3]);
    off();
    events.subscribe("*", (e) => seen.push(e));
    await events.publish("t", "call.started", started("y"));
    expect(seen.map((e) => `${e.session}:${e.seq}`)).toEqual(["s:3", "t:1"]);
    events.close();
  });
});
