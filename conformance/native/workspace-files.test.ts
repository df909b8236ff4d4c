/**
 * Parity of workspace list and read: the Rust core and the TypeScript fallback list and read the
 * same generated tree (nested directories, .git, a symlink, non-ASCII names, binary and invalid
 * UTF-8 files, a multi-byte character cut by a range) with identical results, including the
 * order of entries and of object members.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ListRequest, ReadRequest } from "../../native/files-types.js";
import { addonCore, fallbackCore } from "./cores.js";

const ts = fallbackCore;
const rs = addonCore();
const root = mkdtempSync(join(tmpdir(), "portcullis-files-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(rel: string, content: string | Buffer): void {
  const full = join(root, rel);
  mkdirSync(join(full, ".."), { recursive: true });
  writeFileSync(full, content);
}

put("a.txt", "héllo wörld\n");
put("Zeta.md", "upper case sorts first\n");
put("ä-name.txt", "non-ASCII name\n");
put("src/main.ts", "export const x = 1;\n".repeat(50));
put("src/deep/er/leaf.txt", "leaf\n");
put("src/.git/HEAD", "ref: refs/heads/main\n");
put("bin.dat", Buffer.concat([Buffer.from("header "), Buffer.from([0, 1, 2, 3])]));
put("late-nul.dat", Buffer.concat([Buffer.alloc(9000, 0x61), Buffer.from([0])]));
put(
  "bad-utf8.txt",
  Buffer.from([0x41, 0xc3, 0x28, 0xe2, 0x82, 0x20, 0xf0, 0x9f, 0x98, 0x80, 0x42, 0xed, 0xa0, 0x80]),
);
put("empty.txt", "");
put("emoji.txt", "😀😀😀 end\n");
mkdirSync(join(root, "empty-dir"));
symlinkSync(join(root, "src"), join(root, "link-to-src"));

const list = (extra: Partial<ListRequest> = {}): ListRequest => ({
  root,
  start: root,
  prefixRoot: false,
  depth: 1,
  limit: 1000,
  ...extra,
});

describe("workspace list parity", () => {
  const cases: [string, ListRequest][] = [
    ["top level", list()],
    ["depth 2", list({ depth: 2 })],
    ["everything, .git listed but not entered", list({ depth: 10 })],
    ["limit cuts depth-first", list({ depth: 10, limit: 5 })],
    ["limit of zero", list({ limit: 0 })],
    ["subdirectory", list({ start: join(root, "src"), depth: 3 })],
    ["prefixed with the root", list({ prefixRoot: true, depth: 2 })],
    ["empty directory", list({ start: join(root, "empty-dir") })],
  ];
  it.each(cases)("%s", async (_name, req) => {
    const want = await ts.listFiles(req);
    const got = await rs.listFiles(req);
    expect(JSON.stringify(got)).toBe(JSON.stringify(want));
  });

  it("sees every kind of entry", async () => {
    const r = await rs.listFiles(list({ depth: 10 }));
    expect(new Set(r.entries.map((e) => e.type))).toEqual(new Set(["file", "dir", "symlink"]));
    expect(r.entries.map((e) => e.path)).toContain("src/.git");
    expect(r.entries.map((e) => e.path)).not.toContain("src/.git/HEAD");
    expect(r.entries.map((e) => e.path)).not.toContain("link-to-src/main.ts");
  });

  it("both cores fail on a directory that vanished", async () => {
    const gone = list({ start: join(root, "no-such-dir") });
    await expect(ts.listFiles(gone)).rejects.toThrow(/ENOENT/);
    await expect(rs.listFiles(gone)).rejects.toThrow(/ENOENT/);
  });
});

describe("workspace read parity", () => {
  const read = (rel: string, offset: number, want: number): ReadRequest => ({
    path: join(root, rel),
    offset,
    want,
  });
  const cases: [string, ReadRequest][] = [
    ["whole file", read("a.txt", 0, 1000)],
    ["range cutting a two-byte character", read("a.txt", 2, 4)],
    ["range cutting an astral character", read("emoji.txt", 1, 6)],
    ["past the end", read("a.txt", 100, 10)],
    ["zero bytes wanted", read("a.txt", 0, 0)],
    ["binary", read("bin.dat", 0, 100)],
    ["NUL after the first 8 KiB is text", read("late-nul.dat", 8990, 100)],
    ["invalid UTF-8 and a surrogate encoding", read("bad-utf8.txt", 0, 100)],
    ["empty file", read("empty.txt", 0, 10)],
    ["large range beyond the sniff", read("src/main.ts", 500, 400)],
  ];
  it.each(cases)("%s", async (_name, req) => {
    const want = await ts.readFile(req);
    const got = await rs.readFile(req);
    expect(JSON.stringify(got)).toBe(JSON.stringify(want));
  });

  it("reads what is there", async () => {
    expect(await rs.readFile(read("a.txt", 0, 5))).toEqual({
      size: 14,
      bytes: 5,
      truncated: true,
      binary: false,
      text: "héll",
    });
    expect((await rs.readFile(read("bin.dat", 0, 5))).text).toBeUndefined();
  });

  it("both cores fail on a file that vanished", async () => {
    await expect(ts.readFile(read("gone.txt", 0, 1))).rejects.toThrow(/ENOENT/);
    await expect(rs.readFile(read("gone.txt", 0, 1))).rejects.toThrow(/ENOENT/);
  });
});
