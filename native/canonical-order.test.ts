/**
 * The canonical-order fast path: a value whose members already ascend is canonicalised by one
 * JSON.stringify (no Rust round trip, no sorting), and JSON texts are produced without a replacer.
 * Checked against the Rust canonicaliser of the same JSON text (an independent implementation)
 * over random values, ordered and not, and for the cases where JSON.stringify would be wrong.
 */
import { describe, expect, it } from "vitest";
import { addonCore, fallbackCore } from "../conformance/native/cores.js";
import { seededRandom } from "../gateway/random.js";
import { jsonForNative } from "./addon.js";
import { isCanonicallyOrdered } from "./fallback/canonical.js";
import { loadAddon } from "./loader.js";

const binding = loadAddon().binding!;
const addon = addonCore();
const rust = (v: unknown) => binding.canonicalizeStringified(JSON.stringify(v));

const KEYS = ["a", "b", "Z", "é", "😀", "ﬁ", "10", "9", "0", "-x", "call_id", "null", 'q"', ""];

function randomValue(next: () => number, depth: number, ordered: boolean): unknown {
  const r = next();
  if (depth > 3 || r < 0.35) {
    const p = next();
    if (p < 0.2) return Math.floor(next() * 1e6) - 5e5;
    if (p < 0.35) return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
    if (p < 0.45) return next() < 0.5;
    if (p < 0.55) return null;
    if (p < 0.65) return "null";
    return KEYS[Math.floor(next() * KEYS.length)]!.repeat(1 + Math.floor(next() * 3));
  }
  if (r < 0.55)
    return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1, ordered));
  const keys = [
    ...new Set(Array.from({ length: Math.floor(next() * 5) }, () => KEYS[Math.floor(next() * KEYS.length)]!)),
  ];
  if (ordered) keys.sort();
  const obj: Record<string, unknown> = {};
  for (const k of keys) obj[k] = randomValue(next, depth + 1, ordered);
  return obj;
}

describe("canonical order fast path", () => {
  it("agrees with the Rust canonicaliser on 4,000 random values, ordered and not", () => {
    const next = seededRandom(0x5eed);
    let fast = 0;
    for (let i = 0; i < 4_000; i++) {
      const v = randomValue(next, 0, i % 2 === 0);
      const expected = rust(v);
      if (isCanonicallyOrdered(v)) {
        fast++;
        expect(JSON.stringify(v)).toBe(expected);
      }
      expect(fallbackCore.canonicalize(v)).toBe(expected);
      expect(addon.canonicalize(v)).toBe(expected);
      expect(addon.digest(v)).toBe(binding.sha256Hex(expected));
      expect(fallbackCore.digest(v)).toBe(binding.sha256Hex(expected));
    }
    expect(fast).toBeGreaterThan(1_500); // the fast path itself was exercised
  });

  it("takes integer-like keys, toJSON and unsorted members off the fast path", () => {
    expect(isCanonicallyOrdered({ a: 1, b: [{ c: 1, d: 2 }] })).toBe(true);
    expect(isCanonicallyOrdered({ "10": 1, "9": 2 })).toBe(false); // V8 lists 9 before 10
    expect(isCanonicallyOrdered({ "-x": 1, "1": 2 })).toBe(false); // V8 lists 1 first
    expect(isCanonicallyOrdered({ b: 1, a: 2 })).toBe(false);
    expect(isCanonicallyOrdered({ a: { toJSON: () => ({ b: 1, a: 2 }) } })).toBe(false);
    expect(isCanonicallyOrdered([{ d: new Date(0) }])).toBe(false);
    for (const core of [addon, fallbackCore]) {
      expect(core.canonicalize({ a: { toJSON: () => ({ b: 1, a: 2 }) } })).toBe('{"a":{"a":2,"b":1}}');
      expect(core.canonicalize({ "-x": 1, "1": 2 })).toBe('{"-x":1,"1":2}');
      expect(core.canonicalize({ a: [undefined, "null"], b: undefined })).toBe('{"a":[null,"null"]}');
      expect(core.canonicalize({ a: -0, b: 1e21, c: "\ud800" })).toBe('{"a":0,"b":1e+21,"c":"\\ud800"}');
    }
  });

  it("still refuses non-finite numbers wherever they hide, ordered or not", () => {
    const bad: unknown[] = [
      { a: Number.NaN },
      { a: [1, { b: Number.POSITIVE_INFINITY }] },
      { b: Number.NEGATIVE_INFINITY, a: 1 },
      [null, { toJSON: () => Number.NaN }],
    ];
    for (const v of bad) {
      expect(() => jsonForNative(v)).toThrow(/canonical JSON cannot represent/);
      expect(() => addon.canonicalize(v)).toThrow(/canonical JSON cannot represent/);
      expect(() => addon.digest(v)).toThrow(/canonical JSON cannot represent/);
      expect(() => fallbackCore.canonicalize(v)).toThrow(/canonical JSON cannot represent/);
    }
    // A `null` in the text that is a real null (or a string) is no reason to refuse.
    expect(jsonForNative({ a: null, b: "null" })).toBe('{"a":null,"b":"null"}');
    // BigInt has no JSON.stringify form: the fallback renders it.
    expect(jsonForNative({ a: 1n })).toBeUndefined();
    expect(addon.canonicalize({ b: 1n, a: 2 })).toBe('{"a":2,"b":1}');
  });
});
