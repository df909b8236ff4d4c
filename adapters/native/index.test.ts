import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PortcullisConfig } from "../../gateway/config/schema.js";
import { type BuiltinServer, createBuiltinCapabilities } from "./index.js";

let dir: string;
let outside: string;
let workspace: BuiltinServer;
let memory: BuiltinServer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-ws-"));
  outside = mkdtempSync(join(tmpdir(), "portcullis-out-"));
  const root = join(dir, "root");
  mkdirSync(join(root, "src", "deep"), { recursive: true });
  mkdirSync(join(root, "build"));
  writeFileSync(join(root, "src", "a.ts"), "export const answer = 42;\n// TODO: widen\n");
  writeFileSync(join(root, "src", "deep", "b.ts"), "const TODO = 'x';\n");
  writeFileSync(join(root, "build", "out.js"), "// TODO generated\n");
  writeFileSync(join(root, "notes.log"), "TODO in a log\n");
  writeFileSync(join(root, "keep.log"), "TODO kept\n");
  writeFileSync(join(root, ".gitignore"), "build/\n*.log\n!keep.log\n");
  writeFileSync(join(root, "blob.bin"), Buffer.from([0x54, 0x4f, 0x44, 0x4f, 0, 1, 2]));
  writeFileSync(join(outside, "secret.txt"), "outside\n");
  symlinkSync(outside, join(root, "escape-dir"));
  symlinkSync(join(outside, "secret.txt"), join(root, "escape-file"));
  symlinkSync(join(root, "loop-b"), join(root, "loop-a"));
  symlinkSync(join(root, "loop-a"), join(root, "loop-b"));
  const config = PortcullisConfig.parse({
    workspace: { roots: ["root"], maxReadBytes: 16 },
    memory: { file: "state/memory.bin", dimensions: 64 },
  });
  const caps = createBuiltinCapabilities(config, { baseDir: dir });
  [workspace, memory] = caps.servers as [BuiltinServer, BuiltinServer];
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe("built-in capabilities", () => {
  it("declares the tools with annotations", () => {
    expect(workspace.name).toBe("workspace");
    expect(workspace.tools.map((t) => t.name)).toEqual(["list", "read", "search"]);
    for (const t of workspace.tools) expect(t.annotations?.readOnlyHint).toBe(true);
    expect(memory.tools.map((t) => [t.name, t.annotations?.readOnlyHint])).toEqual([
      ["upsert", false],
      ["query", true],
    ]);
    expect(memory.tools[0]?.annotations).toMatchObject({ destructiveHint: false, idempotentHint: true });
    expect(workspace.tools[2]?.inputSchema).toMatchObject({ type: "object", required: ["pattern"] });
  });

  it.each([
    ["..", "outside the workspace roots"],
    ["../../etc/passwd", "outside the workspace roots"],
    ["/etc/passwd", "outside the workspace roots"],
    ["escape-file", "resolves outside its root"],
    ["escape-dir/secret.txt", "resolves outside its root"],
    ["loop-a", "symlink loop"],
    ["\uff0e\uff0e/\uff0e\uff0e/etc/passwd", "look-alike"],
    ["src\u2215a.ts", "look-alike"],
    ["\u2025/x", "look-alike"],
  ])("refuses %j with GW_ERR_PATH_ESCAPE", async (path, message) => {
    const r = await workspace.call("read", { path });
    expect(r.isError).toBe(true);
    const text = (r.content[0] as { text: string }).text;
    expect(text).toContain("GW_ERR_PATH_ESCAPE");
    expect(text).toContain(message);
  });

  it("lists, reads ranges with caps, and detects binary files", async () => {
    const l = await workspace.call("list", { path: "src", depth: 2 });
    expect(l.structuredContent).toMatchObject({
      entries: [
        { path: "src/a.ts", type: "file" },
        { path: "src/deep", type: "dir" },
        { path: "src/deep/b.ts", type: "file" },
      ],
    });
    const r = await workspace.call("read", { path: "src/a.ts", offset: 7 });
    expect(r.structuredContent).toMatchObject({
      text: "const answer = 4",
      bytes: 16,
      truncated: true,
      binary: false,
    });
    const b = await workspace.call("read", { path: "blob.bin" });
    expect(b.structuredContent).toMatchObject({ binary: true });
    expect(b.structuredContent).not.toHaveProperty("text");
    const missing = await workspace.call("read", { path: "nope.txt" });
    expect((missing.content[0] as { text: string }).text).toContain("GW_ERR_NOT_FOUND");
  });

  it("searches with a regex, honouring .gitignore and skipping binaries and symlinks", async () => {
    const r = await workspace.call("search", { pattern: "TODO" });
    const paths = (r.structuredContent as { matches: { path: string }[] }).matches.map((m) => m.path);
    expect(paths).toEqual(["keep.log", "src/a.ts", "src/deep/b.ts"]);
    const limited = await workspace.call("search", { pattern: "TODO", maxResults: 1 });
    expect(limited.structuredContent).toMatchObject({ truncated: true });
    const bad = await workspace.call("search", { pattern: "(" });
    expect(bad.isError).toBe(true);
    const unknown = await workspace.call("search", { pattern: "x", bogus: 1 });
    expect((unknown.content[0] as { text: string }).text).toContain("invalid arguments");
  });

  it("remembers and recalls text, persists, and keeps embeddings apart", async () => {
    await memory.call("upsert", { id: "m1", text: "the deploy key rotates every Monday" });
    await memory.call("upsert", { id: "m2", text: "lunch menu: pasta and salad" });
    const q = await memory.call("query", { text: "when does the deploy key rotate", k: 2 });
    const results = (q.structuredContent as { results: { id: string; score: number; embedding: string }[] })
      .results;
    expect(results.map((x) => x.id)).toEqual(["m1", "m2"]);
    expect(results[0]?.embedding).toBe("local-lexical-v1@64");
    expect(results[0]?.score).toBeGreaterThan(results[1]?.score ?? 1);

    await memory.call("upsert", { id: "v1", text: "caller vector", vector: [1, 0, 0], embedding: "acme-3d" });
    const v = await memory.call("query", { vector: [1, 0, 0], embedding: "acme-3d" });
    expect((v.structuredContent as { results: { id: string }[] }).results.map((x) => x.id)).toEqual(["v1"]);
    const wrong = await memory.call("query", { vector: [1, 0], embedding: "acme-3d" });
    expect(wrong.isError).toBe(true);
    const noEmbedding = await memory.call("upsert", { text: "x", vector: [1, 0, 0] });
    expect(noEmbedding.isError).toBe(true);

    const config = PortcullisConfig.parse({
      workspace: { roots: ["root"] },
      memory: { file: "state/memory.bin", dimensions: 64 },
    });
    const reopened = createBuiltinCapabilities(config, { baseDir: dir }).servers[1] as BuiltinServer;
    const again = await reopened.call("query", { text: "deploy key", k: 1 });
    expect((again.structuredContent as { results: { id: string; text: string }[] }).results[0]).toMatchObject(
      {
        id: "m1",
        text: "the deploy key rotates every Monday",
      },
    );
  });
});
