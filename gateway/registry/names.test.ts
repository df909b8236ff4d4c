import { describe, expect, it } from "vitest";
import { MAX_NAME_LENGTH, prefixFor, qualifyName } from "./names.js";
import { templatePattern } from "./registry.js";

describe("qualified names", () => {
  it("prefixes with <server>__ by default and allows an empty prefix", () => {
    expect(prefixFor("fs", undefined)).toBe("fs__");
    expect(prefixFor("fs", "")).toBe("");
    expect(qualifyName("fs__", "read_file")).toBe("fs__read_file");
    expect(qualifyName("", "read_file")).toBe("read_file");
  });

  it("keeps a 64-character name as it is and shortens longer ones deterministically", () => {
    const exact = "a".repeat(MAX_NAME_LENGTH - 4);
    expect(qualifyName("srv_", exact)).toBe(`srv_${exact}`);
    const long = `${"x".repeat(70)}_tool`;
    const q = qualifyName("server__", long);
    expect(q).toHaveLength(MAX_NAME_LENGTH);
    expect(q).toBe(qualifyName("server__", long));
    expect(q).toMatch(/^server__x+_[0-9a-f]{8}$/);
  });

  it("gives different long names with a shared head different short names", () => {
    const head = "y".repeat(80);
    const a = qualifyName("s__", `${head}_alpha`);
    const b = qualifyName("s__", `${head}_beta`);
    expect(a).not.toBe(b);
    expect(a.slice(0, 55)).toBe(b.slice(0, 55));
  });
});

describe("resource template patterns", () => {
  it("matches one path segment per simple variable", () => {
    const p = templatePattern("test://template/{id}/data");
    expect(p.test("test://template/42/data")).toBe(true);
    expect(p.test("test://template/4/2/data")).toBe(false);
    expect(p.test("test://template/42/data/x")).toBe(false);
  });

  it("escapes regular-expression characters in the literal parts", () => {
    expect(templatePattern("file:///a.b/{name}").test("file:///aXb/x")).toBe(false);
  });
});
