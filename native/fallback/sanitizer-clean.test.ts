import { describe, expect, it } from "vitest";
import { addonCore, fallbackCore } from "../../conformance/native/cores.js";
import { loadSanitizerFixtures } from "../../conformance/native/sanitizer-fixtures.js";
import { seededRandom } from "../../gateway/random.js";
import { cleanText, provablyClean } from "./sanitizer-clean.js";

const rs = addonCore();
const ts = fallbackCore;

const PIECES = [
  ..."0123456789",
  ..."abcXYZ DEGBFR",
  ".",
  "-",
  " ",
  "_",
  "(",
  ")",
  "+",
  "=",
  "/",
  "sk",
  "to",
  "ke",
  "ey",
  "pw",
  "aws",
  "AK",
  "DE",
  "12",
  "555",
  "10.0",
  "1.2",
  "2026",
  "12 345",
  ":",
  "@",
  "bob@ex.com",
  "10.1.2.3",
  " +1 555 123 4567 ",
  " secret=Zx9Qw8Er7Ty6Ui5Op4As3Df ",
  " DE89370400440532013000 ",
];

describe("cleanText", () => {
  const fixtures = loadSanitizerFixtures();

  it("never clears a fixture text that either core flags", () => {
    let cleared = 0;
    for (const f of fixtures) {
      for (const text of f.positive) expect(cleanText(text), text).toBe(false);
      for (const text of f.negative) {
        if (!cleanText(text)) continue;
        cleared++;
        expect(rs.scanText(text), text).toEqual([]);
        expect(ts.scanText(text), text).toEqual([]);
      }
    }
    expect(cleared).toBeGreaterThan(0);
  });

  it("clears only texts the Rust scanner finds nothing in (generated near-misses)", () => {
    const next = seededRandom(0x5eed);
    let cleared = 0;
    let flagged = 0;
    for (let n = 0; n < 20_000; n++) {
      const parts: string[] = [];
      const len = 1 + Math.floor(next() * 14);
      for (let i = 0; i < len; i++) parts.push(PIECES[Math.floor(next() * PIECES.length)] as string);
      const text = parts.join("");
      const found = rs.scanText(text);
      if (found.length > 0) flagged++;
      if (cleanText(text)) {
        cleared++;
        expect(found, text).toEqual([]);
        expect(ts.scanText(text), text).toEqual([]);
      }
    }
    // The generator must exercise both sides of the proof, or this test proves nothing.
    expect(cleared).toBeGreaterThan(2000);
    expect(flagged).toBeGreaterThan(2000);
  });

  it("refuses each anchor shape and each keyword", () => {
    for (const text of [
      "a@b.co",
      "::1",
      "1.2.3.4",
      "555 123",
      "DE12ABCDEFGH",
      "my token",
      "KEY",
      "x-us",
      "é",
      "line\nbreak",
      "x".repeat(257),
    ]) {
      expect(cleanText(text), text).toBe(false);
    }
    expect(cleanText("m123")).toBe(true);
    // Four or five digits are cleared unless three dots make a dotted quad possible.
    expect(cleanText("m1234")).toBe(true);
    expect(cleanText("build 20261.x")).toBe(true);
    expect(cleanText("10.0.0.1")).toBe(false);
    expect(cleanText("1.2.3.45")).toBe(false);
    expect(cleanText("123456")).toBe(false);
    expect(cleanText("12 345 678")).toBe(false);
    expect(cleanText("")).toBe(true);
  });
});

describe("provablyClean", () => {
  it("accepts small plain values of clean strings, numbers, booleans and null", () => {
    expect(provablyClean({ message: "m123" })).toBe(true);
    expect(provablyClean({ a: [1, true, null, "hello"], b: { c: "world" } })).toBe(true);
    expect(provablyClean("m1")).toBe(true);
    expect(provablyClean(Object.assign(Object.create(null), { a: "b" }))).toBe(true);
  });

  it("refuses what it cannot prove: findings, non-plain objects, undefined, large values", () => {
    expect(provablyClean({ message: "mail bob@example.org" })).toBe(false);
    expect(provablyClean({ when: new Date(0) })).toBe(false);
    expect(provablyClean({ toJSON: () => "secret=abc" })).toBe(false);
    expect(provablyClean({ a: undefined })).toBe(false);
    expect(provablyClean(undefined)).toBe(false);
    expect(provablyClean(Array.from({ length: 40 }, () => "x"))).toBe(false);
    class Args {
      message = "m1";
    }
    expect(provablyClean(new Args())).toBe(false);
  });

  it("leaves scanValue's findings unchanged on both cores", () => {
    for (const value of [
      { message: "m123" },
      { message: "write to bob@example.org" },
      { nested: [{ deep: "key=Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk" }] },
      { when: new Date(0) },
    ]) {
      const a = ts.scanValue(value);
      expect(rs.scanValue(value)).toEqual(a);
      if (provablyClean(value)) expect(a).toEqual([]);
    }
    expect(rs.scanValue({ message: "write to bob@example.org" })).toHaveLength(1);
  });
});
