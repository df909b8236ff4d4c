import { describe, expect, it } from "vitest";
import { randomJson } from "../conformance/native/random-json.js";
import { canonicalize as tsCanonicalize } from "../native/fallback/canonical.js";
import { canonicalize } from "../native/index.js";
import { intern, internedText, memberText } from "./canonical-fragments.js";
import { seededRandom } from "./random.js";

/** An object with ascending members (as the pipeline builds its records), some values interned. */
function recordLike(rnd: () => number): Record<string, unknown> {
  const keys = ["args_digest", "context_hash", "id", "kind", "principal", "reasons", "seq", "target", "v"];
  const obj: Record<string, unknown> = {};
  for (const k of keys) {
    if (rnd() < 0.2) continue;
    const v = rnd() < 0.15 ? undefined : randomJson(rnd, 1);
    obj[k] = v !== null && typeof v === "object" && rnd() < 0.5 ? intern(v) : v;
  }
  return obj;
}

describe("canonical fragments", () => {
  it("memberText equals canonicalize for 5,000 seeded records with interned members", () => {
    const rnd = seededRandom(20261124);
    for (let i = 0; i < 5_000; i++) {
      const r = recordLike(rnd);
      const expected = tsCanonicalize(r);
      expect(memberText(r)).toBe(expected);
      expect(canonicalize(r)).toBe(expected);
    }
  });

  it("falls back to the general path for objects JSON.stringify would not write in order", () => {
    const cases: Record<string, unknown>[] = [
      { b: 1, a: 2 },
      { 10: "x", 9: "y", a: 1 },
      { a: 1, toJSON: () => ({ z: 1 }) },
      Object.assign(Object.create({ inherited: 1 }) as Record<string, unknown>, { a: 1 }),
      { a: 1, f: () => 1 },
      { a: "\ud800", b: [undefined, 1] },
    ];
    for (const c of cases) expect(memberText(c)).toBe(canonicalize(c));
  });

  it("reports a non-finite number as canonicalize does", () => {
    expect(() => memberText({ a: Number.NaN })).toThrow(/cannot represent/);
    const bad = intern({ n: Number.POSITIVE_INFINITY });
    expect(internedText(bad)).toBeUndefined();
    expect(() => memberText({ a: bad })).toThrow(/cannot represent/);
  });

  it("interned values are deep-frozen and keep the text they had", () => {
    const principal = intern({ authenticated: true, id: "alice", roles: ["dev"], via: "stdio" });
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal.roles)).toBe(true);
    expect(() => (principal.roles as string[]).push("admin")).toThrow(TypeError);
    expect(internedText(principal)).toBe(canonicalize(principal));
    expect(memberText({ a: 1, principal })).toBe(`{"a":1,"principal":${canonicalize(principal)}}`);
    expect(internedText({ ...principal })).toBeUndefined();
  });
});
