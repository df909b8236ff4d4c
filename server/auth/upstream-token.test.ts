/**
 * A client's credentials stay at the gateway: a Streamable HTTP upstream (the conformance
 * fixture behind a recording forwarder on loopback) receives only its own configured headers,
 * never the client's `Authorization`, whether the client came over REST or `/mcp`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../gateway/config/load.js";
import { createApp } from "../commands/serve.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";

const root = join(import.meta.dirname, "../..");
const KEY = "client-secret-key-0123456789abcdef";
const seen: IncomingHttpHeaders[] = [];
let fixture: ChildProcess;
let forwarder: Server;
let dir: string;
let runtime: Runtime;
let gw: ReturnType<typeof createApp>;

beforeAll(async () => {
  fixture = spawn(process.execPath, [join(root, "conformance/mcp/fixture-server.mjs"), "--port", "0"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const upstreamPort = await new Promise<number>((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error("fixture did not start in 20 s")), 20_000);
    fixture.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
  });
  forwarder = createServer((req, res) => {
    seen.push({ ...req.headers });
    const up = request(
      {
        host: "127.0.0.1",
        port: upstreamPort,
        path: req.url,
        method: req.method,
        // The fixture checks Host (DNS rebinding defence): present its own address.
        headers: { ...req.headers, host: `localhost:${upstreamPort}` },
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => forwarder.listen(0, "127.0.0.1", ok));
  dir = mkdtempSync(join(tmpdir(), "portcullis-upstream-token-"));
  process.env.PC_UPSTREAM_CLIENT_KEY = KEY;
  process.env.PC_UPSTREAM_OWN_TOKEN = "upstream-own-token";
  const config = validateConfig({
    auth: { apiKeys: [{ id: "bob", key: "env:PC_UPSTREAM_CLIENT_KEY", roles: ["user"] }] },
    mcpServers: {
      remote: {
        url: `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}/mcp`,
        headers: { "X-Upstream-Token": "env:PC_UPSTREAM_OWN_TOKEN" },
      },
    },
    audit: { dir: "audit" },
  });
  const policyData = JSON.parse(readFileSync(join(root, "conformance/policy/allow-all.data.json"), "utf8"));
  const services = await createServices(config, dir, { policyData });
  runtime = createRuntime(config, dir, services);
  gw = createApp({ runtime, services });
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await runtime?.close();
  forwarder?.closeAllConnections();
  await new Promise((done) => forwarder?.close(done));
  fixture?.kill("SIGTERM");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("client tokens are not forwarded upstream", () => {
  it("REST and /mcp calls reach the upstream with its own headers only", async () => {
    const remote = runtime.pool.get("remote");
    for (let i = 0; i < 200 && remote?.health().state !== "ready"; i++) {
      await gw.app.request("http://127.0.0.1/v1/tools", { headers: { authorization: `Bearer ${KEY}` } });
      await new Promise((r) => setTimeout(r, 50));
    }
    const rest = await gw.app.request("http://127.0.0.1/v1/tools/remote__test_simple_text/call", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ arguments: {} }),
      signal: AbortSignal.timeout(20_000),
    });
    expect(rest.status).toBe(200);
    expect(JSON.stringify(await rest.json())).toContain("This is a simple text response for testing.");
    const mcp = await gw.app.request("http://127.0.0.1/mcp", {
      method: "POST",
      headers: {
        authorization: `Bearer ${KEY}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
      }),
    });
    expect(mcp.status).toBe(200);
    await mcp.text();
    expect(seen.length).toBeGreaterThan(0);
    for (const h of seen) {
      expect(h["x-upstream-token"]).toBe("upstream-own-token");
      expect(h.authorization).toBeUndefined();
      expect(JSON.stringify(h)).not.toContain(KEY);
    }
  }, 30_000);
});
