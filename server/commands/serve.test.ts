/**
 * Acceptance of the README's first command: `portcullis serve` with no config, started as a real
 * process in an empty folder, serves the built-in capabilities over Streamable HTTP to an SDK
 * client holding the local bearer key, decides and audits every call, and refuses anonymous callers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../../gateway/audit/index.js";

const root = join(import.meta.dirname, "../..");
let dir: string;
let child: ChildProcess;
let url: URL;

beforeAll(async () => {
  expect(existsSync(join(root, "dist/cli.js")), "run `npm run build` first").toBe(true);
  dir = mkdtempSync(join(tmpdir(), "portcullis-serve-"));
  writeFileSync(join(dir, "notes.txt"), "the embedded default serves this folder\n");
  child = spawn(process.execPath, [join(root, "bin/portcullis.js"), "serve", "--port", "0"], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  url = await new Promise<URL>((ok, fail) => {
    let err = "";
    const timer = setTimeout(() => fail(new Error(`serve did not start in 20 s: ${err}`)), 20_000);
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
      const m = /listening on (http:\/\/\S+\/mcp)/.exec(err);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(new URL(m[1]));
      }
    });
    child.once("exit", (code) => fail(new Error(`serve exited with ${code}: ${err}`)));
  });
}, 30_000);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  rmSync(dir, { recursive: true, force: true });
});

async function connect(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "readme", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
  return client;
}

describe("portcullis serve on its embedded default", () => {
  it("keeps a private local key and serves the workspace to its holder, decided and audited", async () => {
    const keyFile = join(dir, ".portcullis", "local-api-key");
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    const key = readFileSync(keyFile, "utf8").trim();
    expect(key.length).toBeGreaterThanOrEqual(32);

    const client = await connect({ authorization: `Bearer ${key}` });
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["workspace__list", "workspace__read", "workspace__search"]),
    );
    const read = await client.callTool({ name: "workspace__read", arguments: { path: "notes.txt" } });
    expect(read.isError).toBeFalsy();
    expect(JSON.stringify(read.content)).toContain("the embedded default serves this folder");
    await client.close();

    const audit = await verifyAudit(join(dir, ".portcullis", "audit"));
    expect(audit.ok).toBe(true);
    expect(audit.records).toBeGreaterThanOrEqual(2);
  });

  it("refuses an anonymous caller with 401 pointing at the resource metadata, and a wrong key", async () => {
    const anonymous = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(anonymous.status).toBe(401);
    const challenge = anonymous.headers.get("www-authenticate") ?? "";
    const metadata = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadata).toBe(`${url.origin}/.well-known/oauth-protected-resource/mcp`);
    const doc = await fetch(metadata as string, { signal: AbortSignal.timeout(10_000) });
    expect(await doc.json()).toMatchObject({ resource: url.href });
    await expect(connect({})).rejects.toThrow();
    await expect(connect({ authorization: "Bearer wrong-key-wrong-key-wrong-key-00" })).rejects.toThrow();
  });
});
