/**
 * jsonText writes exactly what JSON.stringify writes — same text, same undefined, same errors —
 * for hand-picked awkward values and for thousands of values generated from a fixed seed.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../gateway/random.js";
import { jsonString, jsonText, MAX_DIRECT_DEPTH } from "./json-text.js";

class Point {
  x = 1;
  y = [2];
}

const awkward: unknown[] = [
  "",
  "plain",
  'quote " and \\ backslash',
  "\u0000\u0001\u001f\u007f\u2028\u2029",
  "\ud800 lone high",
  "lone low \udc00",
  "pair 👩🏽‍💻 ok",
  "é ü 文件",
  0,
  -0,
  1,
  -1,
  0.1,
  1e21,
  1e-7,
  5e-324,
  1.7976931348623157e308,
  2 ** 53 + 2,
  2 ** 64,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  true,
  false,
  null,
  undefined,
  () => 1,
  Symbol("s"),
  [],
  {},
  [undefined, () => 1, Symbol("s"), null],
  new Array(3),
  { a: undefined, b: () => 1, c: Symbol("s"), d: 1 },
  { "10": 1, b: 2, "2": 3, "-1": 4, "01": 5 },
  { 'k"ey\\': 1, "\u0000": 2, "\ud800": 3 },
  Object.assign(Object.create(null), { n: 1 }),
  Object.create({ inherited: 1 }),
  new Date(0),
  { when: new Date(86_400_000) },
  { toJSON: () => ({ replaced: true }) },
  { nested: { toJSON: (key: string) => `key:${key}` } },
  Object.assign([1, 2], { toJSON: () => "array" }),
  Object.assign([1, 2], { extra: 3 }),
  new Point(),
  new String("boxed"),
  new Number(7),
  new Boolean(false),
  new Map([[1, 2]]),
  /re/,
];

function deep(n: number): unknown {
  let v: unknown = { leaf: [1, "x"] };
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { d: v };
  return v;
}

function randomString(r: () => number): string {
  const n = Math.floor(r() * 12);
  let s = "";
  for (let i = 0; i < n; i++) {
    const pick = r();
    if (pick < 0.5) s += String.fromCharCode(0x20 + Math.floor(r() * 0x5f));
    else if (pick < 0.6) s += String.fromCharCode(Math.floor(r() * 0x20));
    else if (pick < 0.7) s += String.fromCharCode(0xd800 + Math.floor(r() * 0x800));
    else if (pick < 0.8) s += '"\\';
    else s += String.fromCodePoint(0x80 + Math.floor(r() * 0x10ff00));
  }
  return s;
}

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 4 ? 7 : 10));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor((r() - 0.5) * 2 ** 60);
    case 3:
      return (r() - 0.5) * 10 ** Math.floor(r() * 600 - 300);
    case 4:
      return randomString(r);
    case 5:
      return [undefined, Number.NaN, -0, Number.POSITIVE_INFINITY][Math.floor(r() * 4)];
    case 6:
      return Math.floor(r() * 100);
    case 7:
      return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++)
        o[r() < 0.3 ? String(Math.floor(r() * 20)) : randomString(r)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

describe("jsonText", () => {
  it("writes what JSON.stringify writes for awkward values, at the top and nested", () => {
    for (const v of awkward) {
      expect(jsonText(v), String(JSON.stringify(v))).toBe(JSON.stringify(v));
      expect(jsonText({ v }), String(JSON.stringify({ v }))).toBe(JSON.stringify({ v }));
      expect(jsonText([v]), String(JSON.stringify([v]))).toBe(JSON.stringify([v]));
    }
  });

  it("writes what JSON.stringify writes for 5,000 generated values", () => {
    const r = seededRandom(0x150_7e47);
    for (let i = 0; i < 5000; i++) {
      const v = randomValue(r, 0);
      const want = JSON.stringify(v);
      if (jsonText(v) !== want) expect.fail(`value #${i}: ${jsonText(v)} vs ${want}`);
    }
  });

  it("hands deep nesting to JSON.stringify and throws what it throws", () => {
    expect(jsonText(deep(MAX_DIRECT_DEPTH * 3))).toBe(JSON.stringify(deep(MAX_DIRECT_DEPTH * 3)));
    expect(() => jsonText({ n: 1n })).toThrow(TypeError);
    expect(() => jsonText([[2n]])).toThrow(TypeError);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = { back: cycle };
    expect(() => jsonText(cycle)).toThrow(/circular/i);
  });

  it("quotes strings as JSON.stringify does", () => {
    for (const s of awkward.filter((v): v is string => typeof v === "string")) {
      expect(jsonString(s)).toBe(JSON.stringify(s));
    }
  });
});
