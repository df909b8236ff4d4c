import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadAddon } from "../../native/loader.js";
import { toRustPattern } from "../../native/search-pattern.js";
import type { FileSearchRequest } from "../../native/search-types.js";
import { addonCore, fallbackCore } from "./cores.js";

const ts = fallbackCore;
const rs = addonCore();
const root = mkdtempSync(join(tmpdir(), "portcullis-search-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(rel: string, content: string | Buffer): void {
  const full = join(root, rel);
  mkdirSync(join(full, ".."), { recursive: true });
  writeFileSync(full, content);
}

put(".gitignore", "*.log\n!keep.log\n/build/\ndist\n# comment\nsecret[0-9].txt \n");
put("src/.gitignore", "gen/\n!important.log\n*.tmp\n");
put(
  "src/main.ts",
  "// TODO: first\nconst x = 1; // todo lower\r\nlet élan = 'TODO ünïcode';\n😀😀 TODO after astral\n",
);
put("src/gen/out.ts", "TODO generated\n");
put("src/important.log", "TODO re-included\n");
put("src/a.tmp", "TODO tmp\n");
put("src/deep/er/file.md", `${"x".repeat(499)}😀 TODO long line ${"y".repeat(600)}\nfoo_bar baz\tTODO\n`);
put("src/deep/kelvin.txt", "\u212a k K \u017f s S ſ\nword-boundary todo!\n\u2028odd TODO\n");
put("debug.log", "TODO log\n");
put("keep.log", "TODO kept\n");
put("build/x.ts", "TODO build\n");
put("lib/build/y.ts", "TODO nested build dir is not anchored\n");
put("dist/z.ts", "TODO dist\n");
put("secret1.txt", "TODO secret\n");
put("bin.dat", Buffer.concat([Buffer.from("TODO binary "), Buffer.from([0, 1, 2])]));
put("big.txt", `${"TODO big\n".repeat(3000)}`);
put(".git/config", "TODO git\n");
put("Zeta.txt", "todo Z\n");
put("ä-name.txt", "TODO umlaut name\n");
put(
  "bad-utf8.txt",
  Buffer.concat([Buffer.from("TODO "), Buffer.from([0xc3, 0x28, 0xe2, 0x82]), Buffer.from(" TODO\n")]),
);
for (let i = 0; i < 30; i++) put(`many/f${String(i).padStart(2, "0")}.txt`, `line\nTODO ${i}\n`);
symlinkSync(join(root, "src"), join(root, "link-to-src"));

function req(pattern: string, extra: Partial<FileSearchRequest> = {}): FileSearchRequest {
  return {
    root,
    start: root,
    prefixRoot: false,
    pattern,
    caseInsensitive: false,
    maxResults: 1000,
    maxFiles: 20_000,
    maxFileBytes: 20_000,
    ...extra,
  };
}

const PATTERNS: [string, Partial<FileSearchRequest>][] = [
  ["TODO", {}],
  ["todo", { caseInsensitive: true }],
  ["k", { caseInsensitive: true }],
  ["s", { caseInsensitive: true }],
  ["\\btodo\\b", {}],
  ["\\w+_\\w+\\s", {}],
  ["[^\\x00-\\x7f]", {}],
  ["\\u{1F600}", {}],
  ["\\uD83D\\uDE00 ", {}],
  [".TODO", {}],
  ["^\\s*$", {}],
  ["TODO$", {}],
  ["(?<name>T)O(?:DO)", {}],
  ["a{3,}|é", {}],
  ["[\\d-]", {}],
  ["(?<=// )TODO", {}],
  ["(T)\\1", {}],
  ["\\p{Lu}", {}],
  ["[^]T", {}],
  ["\\S+\\.", {}],
  ["\\W{2}", { caseInsensitive: false }],
  ["TODO", { maxResults: 3 }],
  ["TODO", { maxFiles: 4 }],
  ["TODO", { maxFileBytes: 10 }],
  ["TODO", { start: join(root, "src") }],
  ["TODO", { start: join(root, "src", "main.ts") }],
  ["TODO", { start: join(root, "src"), prefixRoot: true }],
];

describe("workspace search parity", () => {
  it.each(PATTERNS)("%s %o: both cores give the same matches", async (pattern, extra) => {
    const r = req(pattern, extra);
    const want = await ts.searchFiles(r);
    expect(await rs.searchFiles(r)).toEqual(want);
  });

  it("honours .gitignore, skips .git, binaries, symlinks and big files", async () => {
    const r = await rs.searchFiles(req("TODO"));
    const files = new Set(r.matches.map((m) => m.path));
    expect([...files].sort()).toEqual(
      [
        "keep.log",
        "lib/build/y.ts",
        "many/f00.txt",
        "src/deep/er/file.md",
        "src/deep/kelvin.txt",
        "src/important.log",
        "src/main.ts",
        "ä-name.txt",
        "bad-utf8.txt",
      ]
        .concat(Array.from({ length: 29 }, (_, i) => `many/f${String(i + 1).padStart(2, "0")}.txt`))
        .sort(),
    );
    const long = r.matches.find((m) => m.path === "src/deep/er/file.md");
    expect(long).toMatchObject({ line: 1, column: 503 });
    expect(long?.text).toBe("x".repeat(499));
    const astral = r.matches.find((m) => m.path === "src/main.ts" && m.line === 4);
    expect(astral?.column).toBe(6);
  });

  it("translates the common patterns, and leaves the rest to the ECMAScript engine", () => {
    const binding = loadAddon().binding;
    for (const [p, ci] of PATTERNS.slice(0, 15).map(([p, x]) => [p, x.caseInsensitive ?? false] as const)) {
      const rust = toRustPattern(p, ci);
      expect(rust, p).toBeDefined();
      expect(binding?.searchPatternError(rust as string), p).toBeNull();
    }
    expect(toRustPattern("todo", true)).toBe("(?i)todo");
    for (const [p, ci] of [
      ["(?<=a)b", false],
      ["(a)\\1", false],
      ["\\p{Lu}", false],
      ["\\w", true],
      ["[\\W]", false],
    ] as const) {
      expect(toRustPattern(p, ci), p).toBeUndefined();
    }
  });

  it("stops when cancelled, in both cores", async () => {
    for (const core of [ts, rs]) {
      const ac = new AbortController();
      ac.abort();
      const r = await core.searchFiles(req("TODO"), ac.signal);
      expect(r.cancelled).toBe(true);
      expect(r.matches).toEqual([]);
    }
  });
});
