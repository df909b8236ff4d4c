import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../gateway/random.js";
import { loadAddon } from "../loader.js";
import { jsCanonical, QUICK_NODES, quickCanonical, writeCanonical } from "./canonical.js";

const { binding } = loadAddon();
if (!binding) throw new Error("native addon not loadable (run npm run setup)");
const rust = binding;

const { vectors } = JSON.parse(
  readFileSync(new URL("../../conformance/native/canonical.vectors.json", import.meta.url), "utf8"),
) as { vectors: { name: string; input: string; canonical: string }[] };

const KEYS = ["a", "b", "B", "é", "😀", "\u00e9\u0301", "z", "aa", "a b", "__proto__", "-x", "_", "€", "ſ"];

function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 3 || r < 0.35) {
    const p = next();
    if (p < 0.2) return Math.floor(next() * 1e6) - 5e5;
    if (p < 0.35) return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
    if (p < 0.4) return -0;
    if (p < 0.5) return next() < 0.5;
    if (p < 0.55) return null;
    return KEYS[Math.floor(next() * KEYS.length)]!.repeat(1 + Math.floor(next() * 3)) + '\n\t"\\\u0001';
  }
  if (r < 0.55) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const obj: Record<string, unknown> = {};
  const n = Math.floor(next() * 5);
  for (let i = 0; i < n; i++) {
    const key = KEYS[Math.floor(next() * KEYS.length)]!;
    const value = randomValue(next, depth + 1);
    if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true });
    else obj[key] = value;
  }
  return obj;
}

describe("quickCanonical", () => {
  it("gives the vectors' canonical text", () => {
    for (const v of vectors) {
      const quick = quickCanonical(JSON.parse(v.input), QUICK_NODES);
      if (quick !== undefined) expect(quick, v.name).toBe(v.canonical);
    }
  });

  it("equals the writer and the Rust core on 5,000 random values, unordered members included", () => {
    const next = seededRandom(0xc0ffee);
    let taken = 0;
    for (let i = 0; i < 5000; i++) {
      const value = randomValue(next, 0);
      const quick = quickCanonical(value, QUICK_NODES);
      if (quick === undefined) continue;
      taken++;
      expect(quick).toBe(writeCanonical(value));
      expect(quick).toBe(rust.canonicalizeStringified(JSON.stringify(value)));
    }
    expect(taken).toBeGreaterThan(4500);
  });

  it("leaves to the writer what JSON.stringify cannot write canonically", () => {
    expect(quickCanonical({ a: Number.NaN }, QUICK_NODES)).toBeUndefined();
    expect(quickCanonical([Number.POSITIVE_INFINITY], QUICK_NODES)).toBeUndefined();
    expect(quickCanonical({ n: 10n }, QUICK_NODES)).toBeUndefined();
    expect(quickCanonical({ d: new Date(0) }, QUICK_NODES)).toBeUndefined();
    expect(quickCanonical({ toJSON: () => 1 }, QUICK_NODES)).toBeUndefined();
    expect(quickCanonical(undefined, QUICK_NODES)).toBeUndefined();
    // Integer-like keys would be listed first by V8 whatever the insertion order.
    expect(quickCanonical({ b: 1, "10": 2, "9": 3 }, QUICK_NODES)).toBeUndefined();
    expect(writeCanonical({ b: 1, "10": 2, "9": 3 })).toBe('{"10":2,"9":3,"b":1}');
  });

  it("without copies, answers only for values already in order (null members included)", () => {
    expect(quickCanonical({ b: 1, a: 2 }, QUICK_NODES, false)).toBeUndefined();
    expect(quickCanonical([{ b: 1, a: 2 }], QUICK_NODES, false)).toBeUndefined();
    expect(jsCanonical({ a: null, b: [1, null] }, QUICK_NODES, false)).toBe('{"a":null,"b":[1,null]}');
    expect(jsCanonical({ a: Number.NaN }, QUICK_NODES, false)).toBeUndefined();
    expect(jsCanonical({ b: 1, a: 2 }, QUICK_NODES, true)).toBe('{"a":2,"b":1}');
  });

  it("leaves objects with another prototype to the writer (own members only)", () => {
    const child = Object.assign(Object.create({ inherited: 1 }) as object, { b: 2, a: 1 });
    expect(quickCanonical(child, QUICK_NODES)).toBeUndefined();
    expect(writeCanonical(child)).toBe('{"a":1,"b":2}');
  });

  it("sorts nested members, keeps __proto__ as a member and respects the node budget", () => {
    const proto = JSON.parse('{"z":1,"__proto__":{"y":[{"b":1,"a":2}]}}') as unknown;
    expect(quickCanonical(proto, QUICK_NODES)).toBe('{"__proto__":{"y":[{"a":2,"b":1}]},"z":1}');
    expect(quickCanonical({ content: [{ type: "text", text: "m1" }] }, QUICK_NODES)).toBe(
      '{"content":[{"text":"m1","type":"text"}]}',
    );
    expect(quickCanonical([[[]]], 2)).toBeUndefined();
    expect(quickCanonical([[[]]], 3)).toBe("[[[]]]");
  });
});
