import { describe, expect, it } from "vitest";
import { IgnoreRules } from "./gitignore.js";

describe("IgnoreRules", () => {
  it("follows gitignore rules (the same cases as the Rust twin)", () => {
    const r = new IgnoreRules("# c\n*.log\n!keep.log\n/build/\ndocs/**/*.tmp\n[ab]?.txt \n\\#x\n");
    expect(r.match("a/b/x.log", false)).toBe(true);
    expect(r.match("keep.log", false)).toBe(false);
    expect(r.match("build", true)).toBe(true);
    expect(r.match("build", false)).toBeUndefined();
    expect(r.match("src/build", true)).toBeUndefined();
    expect(r.match("docs/x.tmp", false)).toBe(true);
    expect(r.match("docs/a/b/x.tmp", false)).toBe(true);
    expect(r.match("b1.txt", false)).toBe(true);
    expect(r.match("c1.txt", false)).toBeUndefined();
    expect(r.match("#x", false)).toBe(true);
    expect(r.match("a/x.logs", false)).toBeUndefined();
  });

  it("keeps an escaped trailing space and never lets wildcards cross a slash", () => {
    const r = new IgnoreRules("name\\ \t\na?b\nc[!x]d\n");
    expect(r.match("name ", false)).toBe(true);
    expect(r.match("name", false)).toBeUndefined();
    expect(r.match("a/b", false)).toBeUndefined();
    expect(r.match("c/d", false)).toBeUndefined();
    expect(r.match("czd", false)).toBe(true);
  });
});
