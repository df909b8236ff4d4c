/**
 * The embedded default (no config file): built-in workspace and memory capabilities over the
 * config folder, the committed default policy bundle and a local audit folder — served over stdio
 * to the trusted local principal. Read-only workspace tools are allowed by the default policy; a
 * secret in the arguments is found by the native sanitizer and denied; an email address in the
 * arguments is masked in the audit record (the policy's redact obligation).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../../gateway/audit/index.js";
import { loadConfig } from "../../gateway/config/load.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";
import { serveStdio } from "./stdio.js";

let dir: string;
let runtime: Runtime;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-embedded-"));
  writeFileSync(join(dir, "notes.txt"), "the portcullis is down\n");
  const { config, baseDir, file } = loadConfig(undefined, dir);
  expect(file).toBeUndefined();
  runtime = createRuntime(config, baseDir, await createServices(config, baseDir));
});

afterAll(async () => {
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

function linked(): { transport: Transport; io: { stdin: PassThrough; stdout: PassThrough } } {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let buf = "";
  const transport: Transport = {
    async start() {
      stdout.on("data", (c: Buffer) => {
        buf += c.toString("utf8");
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) transport.onmessage?.(JSON.parse(line) as JSONRPCMessage);
        }
      });
    },
    async send(m) {
      stdin.write(`${JSON.stringify(m)}\n`);
    },
    async close() {
      stdin.end();
      transport.onclose?.();
    },
  };
  return { transport, io: { stdin, stdout } };
}

describe("embedded default over stdio", () => {
  it("serves the built-in workspace tools under the default policy", async () => {
    const { transport, io } = linked();
    const served = serveStdio(runtime.pipeline, io);
    const client = new Client({ name: "ide", version: "1.0.0" });
    await client.connect(transport);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["workspace__list", "workspace__read", "workspace__search"]),
    );
    const read = await client.callTool({ name: "workspace__read", arguments: { path: "notes.txt" } });
    expect(read.isError).toBeFalsy();
    expect(JSON.stringify(read.content)).toContain("the portcullis is down");
    const secret = await client.callTool({
      name: "workspace__search",
      arguments: { pattern: "AKIAIOSFODNN7EXAMPLE" },
    });
    expect(secret.isError).toBe(true);
    expect(JSON.stringify(secret.structuredContent)).toContain("SECRET_IN_ARGUMENTS");
    const email = await client.callTool({
      name: "workspace__search",
      arguments: { pattern: "grace.hopper@example.com" },
    });
    expect(email.isError).toBeFalsy();
    await client.close();
    await served;
    const audit = join(dir, ".portcullis/audit");
    const lines = readdirSync(audit)
      .filter((f) => f.endsWith(".jsonl"))
      .flatMap((f) => readFileSync(join(audit, f), "utf8").split("\n"))
      .filter(Boolean);
    const decision = lines
      .map((l) => JSON.parse(l))
      .find((r) => r.kind === "decision" && r.target.name === "workspace__search" && r.decision === "allow");
    expect(decision).toBeDefined();
    expect(decision.args_redacted).toBeDefined();
    expect(JSON.stringify(decision)).not.toContain("grace.hopper@example.com");
    expect(decision.args_digest).toMatch(/^[0-9a-f]{64}$/);
    expect((await verifyAudit(join(dir, ".portcullis/audit"))).ok).toBe(true);
  });
});
