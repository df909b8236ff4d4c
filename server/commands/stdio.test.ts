/**
 * Acceptance: a Claude-Desktop-style config (the `mcpServers` shape, pasted as is) with
 * server-everything and server-filesystem, served by the real `portcullis stdio` command (from
 * dist/) to an SDK client that launched it the way a desktop assistant does; the audit log
 * verifies afterwards.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../../gateway/audit/index.js";

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, "../..");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-desktop-"));
  mkdirSync(join(dir, "docs"));
  writeFileSync(join(dir, "docs", "readme.md"), "# desktop config works\n");
  writeFileSync(
    join(dir, "portcullis.json"),
    JSON.stringify({
      mcpServers: {
        everything: {
          command: process.execPath,
          args: [require.resolve("@modelcontextprotocol/server-everything/dist/index.js"), "stdio"],
        },
        filesystem: {
          command: process.execPath,
          args: [require.resolve("@modelcontextprotocol/server-filesystem/dist/index.js"), join(dir, "docs")],
          env: { FS_LOG: "quiet" },
        },
      },
    }),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("portcullis stdio with a desktop-style config", () => {
  it("lists and calls tools of both upstreams end to end", { timeout: 60_000 }, async () => {
    expect(existsSync(join(root, "dist/cli.js")), "run `npm run build` first").toBe(true);
    const client = new Client({ name: "desktop", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [join(root, "bin/portcullis.js"), "stdio", "--config", join(dir, "portcullis.json")],
        cwd: dir,
        stderr: "ignore",
      }),
    );
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["everything__echo", "filesystem__read_text_file", "workspace__read"]),
    );
    const echo = await client.callTool({ name: "everything__echo", arguments: { message: "desktop" } });
    expect(echo.content).toEqual([{ type: "text", text: "Echo: desktop" }]);
    const file = await client.callTool({
      name: "filesystem__read_text_file",
      arguments: { path: join(dir, "docs", "readme.md") },
    });
    expect(JSON.stringify(file.content)).toContain("desktop config works");
    await client.close();
    const report = await verifyAudit(join(dir, ".portcullis/audit"));
    expect(report.ok).toBe(true);
    expect(report.records).toBeGreaterThanOrEqual(4);
  });
});
