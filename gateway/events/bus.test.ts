import { describe, expect, it, vi } from "vitest";
import { SessionEvent } from "../../contracts/index.js";
import { ManualClock } from "../clock.js";
import { ALL_SESSIONS, SessionEventBus } from "./index.js";

describe("SessionEventBus", () => {
  it("numbers events per session, stamps them from the clock and emits valid SessionEvents", () => {
    const clock = new ManualClock("2026-02-02T10:00:00.000Z");
    const bus = new SessionEventBus({ clock });
    const a1 = bus.publish("s-a", "call.started", { call_id: "c1", tool: "workspace__read" });
    clock.advance(250);
    const b1 = bus.publish("s-b", "file.read", { path: "src/index.ts", bytes: 120 });
    const a2 = bus.publish("s-a", "call.completed", {
      call_id: "c1",
      tool: "workspace__read",
      status: "ok",
      total_ms: 3.2,
    });
    const a3 = bus.publish("s-a", "approval.requested", {
      approval_id: "ap-1",
      tool: "files__delete",
      expires_at: "2026-02-02T10:05:00.000Z",
    });
    const a4 = bus.publish("s-a", "approval.resolved", { approval_id: "ap-1", granted: false, by: "alice" });

    expect([a1.seq, a2.seq, a3.seq, a4.seq, b1.seq]).toEqual([1, 2, 3, 4, 1]);
    expect(a1).toEqual({
      v: 1,
      session: "s-a",
      seq: 1,
      ts: "2026-02-02T10:00:00.000Z",
      kind: "call.started",
      data: { call_id: "c1", tool: "workspace__read" },
    });
    expect(b1.ts).toBe("2026-02-02T10:00:00.250Z");
    for (const e of [a1, a2, a3, a4, b1]) expect(SessionEvent.safeParse(e).error).toBeUndefined();
    expect(bus.lastSeq("s-a")).toBe(4);
    expect(bus.lastSeq("nobody")).toBe(0);
  });

  it("delivers to session and wildcard subscribers until they unsubscribe", () => {
    const bus = new SessionEventBus();
    const mine: number[] = [];
    const all: string[] = [];
    const off = bus.subscribe("s1", (e) => mine.push(e.seq));
    const offAll = bus.subscribe(ALL_SESSIONS, (e) => all.push(`${e.session}:${e.seq}`));
    bus.publish("s1", "terminal.input", { text: "ls" });
    bus.publish("s2", "terminal.output", { text: "a b", stream: "stdout" });
    off();
    bus.publish("s1", "terminal.input", { text: "pwd" });
    offAll();
    bus.publish("s1", "terminal.input", { text: "exit" });
    expect(mine).toEqual([1]);
    expect(all).toEqual(["s1:1", "s2:1", "s1:2"]);
  });

  it("isolates a throwing listener", () => {
    const failures: string[] = [];
    const bus = new SessionEventBus({ onListenerError: (e) => failures.push((e as Error).message) });
    const got: number[] = [];
    bus.subscribe("s", () => {
      throw new Error("boom");
    });
    bus.subscribe("s", (e) => got.push(e.seq));
    expect(bus.publish("s", "browser.navigate", { url: "https://example.org/" }).seq).toBe(1);
    expect(got).toEqual([1]);
    expect(failures).toEqual(["boom"]);
  });

  it("replays from a seq within a bounded history", () => {
    const bus = new SessionEventBus({ historyLimit: 5 });
    for (let i = 0; i < 8; i++) bus.publish("s", "file.search", { query: `q${i}` });
    expect(bus.since("s", 6).map((e) => e.seq)).toEqual([7, 8]);
    expect(bus.since("s", 8)).toEqual([]);
    // seqs 1-3 fell out: a client at 1 gets 4.. and can tell from the jump that it missed some.
    expect(bus.since("s", 1).map((e) => e.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(bus.since("s", 0).map((e) => e.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(bus.since("other", 0)).toEqual([]);
    bus.endSession("s");
    expect(bus.lastSeq("s")).toBe(0);
    expect(bus.publish("s", "file.search", { query: "again" }).seq).toBe(1);
  });

  it("forgets the least recently active session beyond maxSessions", () => {
    const bus = new SessionEventBus({ maxSessions: 2 });
    bus.publish("a", "terminal.input", { text: "1" });
    bus.publish("b", "terminal.input", { text: "1" });
    bus.publish("a", "terminal.input", { text: "2" });
    bus.publish("c", "terminal.input", { text: "1" });
    expect(bus.lastSeq("a")).toBe(2);
    expect(bus.lastSeq("b")).toBe(0);
    expect(bus.lastSeq("c")).toBe(1);
  });

  it("bounds the events retained across sessions, trimming the least recently active first", () => {
    const bus = new SessionEventBus({ historyLimit: 10, maxRetainedEvents: 12 });
    for (let i = 0; i < 8; i++) bus.publish("old", "terminal.input", { text: `${i}` });
    for (let i = 0; i < 8; i++) bus.publish("new", "terminal.input", { text: `${i}` });
    expect(bus.since("new", 0).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(bus.since("old", 0).map((e) => e.seq)).toEqual([5, 6, 7, 8]);
    // The counter survives the trimming: numbering never restarts while the session is tracked.
    expect(bus.publish("old", "terminal.input", { text: "again" }).seq).toBe(9);
    expect(bus.since("new", 0).map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    bus.endSession("new");
    for (let i = 0; i < 3; i++) bus.publish("old", "terminal.input", { text: "more" });
    expect(bus.since("old", 0).map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it("rejects unknown kinds, bad sessions and non-object data", () => {
    const bus = new SessionEventBus();
    const listener = vi.fn();
    bus.subscribe(ALL_SESSIONS, listener);
    // @ts-expect-error an unknown kind is a type error and a runtime error
    expect(() => bus.publish("s", "call.exploded", {})).toThrow(/unknown session event kind/);
    expect(() => bus.publish("", "terminal.input", { text: "x" })).toThrow(/invalid session id/);
    expect(() => bus.publish("*", "terminal.input", { text: "x" })).toThrow(/invalid session id/);
    // @ts-expect-error data must be an object
    expect(() => bus.publish("s", "terminal.input", "x")).toThrow(/must be an object/);
    // @ts-expect-error call.started needs call_id and tool
    expect(() => bus.publish("s", "call.started", { id: "c1", target: "x" })).toThrow(
      /invalid call.started event data at call_id/,
    );
    expect(() =>
      bus.publish("s", "call.completed", { call_id: "c", tool: "t", status: "fine" as "ok" }),
    ).toThrow(/at status/);
    expect(listener).not.toHaveBeenCalled();
    expect(bus.lastSeq("s")).toBe(0);
  });
});
