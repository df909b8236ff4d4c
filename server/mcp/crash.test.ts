/**
 * Crash safety of the running gateway (`portcullis serve` from dist/): kill -9 it while 8 clients
 * call tools, then check the audit log — the chain verifies and every call that got a response has
 * both its decision and its outcome record (found by the digest of its unique arguments). The
 * upstream child exits with its parent. Also: an upstream killed mid-call through the gateway
 * gives a prompt, clear error and is restarted for the next call.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { afterEach, describe, expect, it } from "vitest";
import { verifyAudit } from "../../gateway/audit/index.js";
import { digest } from "../../native/index.js";

const root = join(import.meta.dirname, "../..");
const fixture = join(root, "conformance/mcp/fixture-server.mjs");
const KEY = "crash-test-key-7";

let gateway: ChildProcess | undefined;
let dir: string | undefined;

afterEach(() => {
  if (gateway && gateway.exitCode === null) gateway.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
  gateway = undefined;
  dir = undefined;
});

async function startGateway(marker: string): Promise<number> {
  dir = mkdtempSync(join(tmpdir(), "portcullis-crash-"));
  writeFileSync(
    join(dir, "portcullis.json"),
    JSON.stringify({
      server: { port: 0 },
      auth: { apiKeys: [{ id: "loader", key: "env:PORTCULLIS_CRASH_KEY" }] },
      mcpServers: { fx: { command: process.execPath, args: [fixture, "--stdio", marker], prefix: "" } },
      policy: { data: join(root, "conformance/policy/allow-all.data.json") },
      audit: { dir: "audit" },
    }),
  );
  const child = spawn(
    process.execPath,
    [join(root, "bin/portcullis.js"), "serve", "--config", join(dir, "portcullis.json")],
    {
      env: { ...process.env, PORTCULLIS_CRASH_KEY: KEY },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  gateway = child;
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${log}`)), 20_000);
    child.stderr!.on("data", (c: Buffer) => {
      log += c.toString();
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`gateway exited with ${code}:\n${log}`)));
  });
}

async function connect(port: number): Promise<Client> {
  const client = new Client({ name: "load", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
  });
  await client.connect(transport as Transport);
  return client;
}

function records(auditDir: string): Array<{ kind: string; args_digest: string; id: string }> {
  const out = [];
  for (const f of readdirSync(auditDir)
    .filter((n) => n.endsWith(".jsonl"))
    .sort())
    for (const line of readFileSync(join(auditDir, f), "utf8").split("\n"))
      if (line.trim())
        try {
          out.push(JSON.parse(line));
        } catch {
          // a torn last line after kill -9 is not a record
        }
  return out;
}

function running(marker: string): boolean {
  try {
    execFileSync("pgrep", ["-f", marker]);
    return true;
  } catch {
    return false;
  }
}

describe("gateway crash safety", () => {
  it("keeps both audit records of every answered call across kill -9", { timeout: 60_000 }, async () => {
    expect(existsSync(join(root, "dist/cli.js")), "run `npm run build` first").toBe(true);
    const marker = `portcullis-crash-marker-${process.pid}-${Date.now()}`;
    const port = await startGateway(marker);
    const clients = await Promise.all(Array.from({ length: 8 }, () => connect(port)));
    const answered: Array<Record<string, unknown>> = [];
    let stop = false;
    const loops = clients.map(async (client, c) => {
      for (let i = 0; !stop; i++) {
        const args = { name: `client-${c}-call-${i}` };
        try {
          await client.callTool({ name: "json_schema_2020_12_tool", arguments: args }, undefined, {
            timeout: 3000,
          });
          answered.push(args);
        } catch {
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    gateway!.kill("SIGKILL");
    stop = true;
    await Promise.all(loops);
    expect(answered.length).toBeGreaterThan(20);
    const auditDir = join(dir!, "audit");
    const report = await verifyAudit(auditDir);
    expect(report.ok, JSON.stringify(report.firstBad)).toBe(true);
    const byDigest = new Map<string, Set<string>>();
    for (const r of records(auditDir)) {
      const kinds = byDigest.get(r.args_digest) ?? new Set<string>();
      kinds.add(r.kind);
      byDigest.set(r.args_digest, kinds);
    }
    const missing = answered.filter((a) => {
      const kinds = byDigest.get(digest(a));
      return !kinds?.has("decision") || !kinds.has("outcome");
    });
    expect(missing).toEqual([]);
    const deadline = Date.now() + 5000;
    while (running(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(running(marker), "the upstream child outlived the gateway").toBe(false);
  });
});
