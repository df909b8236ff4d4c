import { describe, expect, it } from "vitest";
import { SessionEventData, type SessionEventKind } from "../../contracts/index.js";
import { seededRandom } from "../random.js";
import { checkSessionEvent } from "./bus.js";
import { certainlyValidEventData } from "./data-check.js";

const ids = [
  "",
  "c",
  "x".repeat(256),
  "x".repeat(257),
  "é",
  "\u{1F600}".repeat(128),
  "\u{1F600}".repeat(129),
];
const tools = [
  "echo",
  "a__b.c/d-e",
  "t".repeat(128),
  "t".repeat(129),
  "",
  "bad name",
  "naïve",
  "prompts/get",
  "x\n",
];
const others = [undefined, null, 0, 1, true, false, [], {}, ["echo"], { toString: () => "echo" }];
const statuses = ["ok", "error", "denied", "pending_approval", "timeout", "cancelled", "OK", "done", ""];
const numbers = [0, -0, 1.5, 86_400_000, 86_400_000.5, -1, -1e-9, Number.NaN, Infinity, -Infinity, "3"];
const kinds = ["tool", "prompt", "resource", "Tool", ""];
const targets = ["echo", "file:///a b", "", "u".repeat(8192), "u".repeat(8193)];

/** Picks from a pool, or a value of another type, or leaves the member out (undefined). */
function picker(rand: () => number) {
  return (pool: readonly unknown[]): unknown => {
    const r = rand();
    if (r < 0.7) return pool[Math.floor(rand() * pool.length)];
    return others[Math.floor(rand() * others.length)];
  };
}

function generate(rand: () => number): Record<string, unknown> {
  const pick = picker(rand);
  const members: Record<string, () => unknown> = {
    call_id: () => pick(ids),
    approval_id: () => pick(ids),
    by: () => pick(ids),
    tool: () => pick(tools),
    status: () => pick(statuses),
    total_ms: () => pick(numbers),
    target_kind: () => pick(kinds),
    target: () => pick(targets),
    granted: () => pick([true, false, "true", 1]),
    decision: () => pick(["allow", "deny"]),
  };
  const data: Record<string, unknown> = {};
  for (const [name, make] of Object.entries(members)) {
    const r = rand();
    if (r < 0.15) continue; // absent
    if (r < 0.2)
      data[name] = undefined; // present but undefined
    else data[name] = make();
  }
  // Now and then the members come from a prototype.
  if (rand() < 0.05) return Object.create(data) as Record<string, unknown>;
  return data;
}

describe("certainlyValidEventData", () => {
  it("never accepts what the contract's schema rejects (generated data, every kind)", () => {
    const rand = seededRandom(0x8e7e);
    const fast: Record<string, number> = {};
    for (const kind of Object.keys(SessionEventData) as SessionEventKind[]) {
      fast[kind] = 0;
      for (let i = 0; i < 20_000; i++) {
        const data = generate(rand);
        if (!certainlyValidEventData(kind, data)) continue;
        fast[kind] += 1;
        const checked = SessionEventData[kind].safeParse(data);
        if (!checked.success)
          throw new Error(`accepted ${JSON.stringify(data)} as ${kind}: ${checked.error.message}`);
      }
    }
    // The generator reaches the accepting path of each kind the check covers.
    expect(fast["call.started"]).toBeGreaterThan(50);
    expect(fast["call.completed"]).toBeGreaterThan(30);
    expect(fast["approval.resolved"]).toBeGreaterThan(50);
    expect(fast["approval.requested"]).toBe(0);
    expect(fast["file.read"]).toBe(0);
  });

  it("accepts the events the pipeline publishes", () => {
    expect(certainlyValidEventData("call.started", { call_id: "c-1", tool: "echo", decision: "allow" })).toBe(
      true,
    );
    expect(
      certainlyValidEventData("call.completed", {
        call_id: "c-1",
        target_kind: "resource",
        tool: "resources/read",
        target: "file:///tmp/x",
        status: "ok",
        total_ms: 0.42,
      }),
    ).toBe(true);
    expect(
      certainlyValidEventData("approval.resolved", { approval_id: "a", granted: true, by: "alice" }),
    ).toBe(true);
  });

  it("leaves refusals to the schema, whose message is unchanged", () => {
    expect(() =>
      checkSessionEvent("s", "call.completed", { call_id: "c", tool: "echo", status: "done" }),
    ).toThrow(/invalid call.completed event data at status/);
    expect(() => checkSessionEvent("s", "call.started", { call_id: "", tool: "echo" })).toThrow(
      /invalid call.started event data at call_id/,
    );
    expect(() =>
      checkSessionEvent("s", "call.completed", {
        call_id: "c",
        tool: "echo",
        status: "ok",
        total_ms: Number.NaN,
      }),
    ).toThrow(/at total_ms/);
  });
});
