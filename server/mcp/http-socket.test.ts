/**
 * The MCP HTTP gate (`createMcpHttp` alone, no outer app) over a real socket — node's parser and
 * the adapter's request: headers are read from the raw header list there, not from a `Headers`
 * object, so Host, Origin (a repeated one included, joined as `Headers.get` joins it),
 * Authorization and the JSON fast path's headers are checked here end to end.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../gateway/config/load.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";
import { createMcpHttp, type McpHttp } from "./http.js";

let dir: string;
let runtime: Runtime;
let mcp: McpHttp;
let server: ServerType;
let port: number;
const KEY = "socket-test-key-7";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-http-socket-"));
  process.env.PORTCULLIS_SOCKET_TEST_KEY = KEY;
  const config = validateConfig({
    auth: { apiKeys: [{ id: "bob", key: "env:PORTCULLIS_SOCKET_TEST_KEY" }] },
    audit: { dir: "audit" },
  });
  runtime = createRuntime(config, dir, await createServices(config, dir));
  mcp = createMcpHttp({
    pipeline: runtime.pipeline,
    limits: { maxBodyBytes: 4096, maxJsonDepth: 16, allowedOrigins: [], allowedHosts: [] },
  });
  await new Promise<void>((ready) => {
    server = serve({ fetch: mcp.app.fetch, hostname: "127.0.0.1", port: 0 }, () => ready());
  });
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await mcp?.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

const init = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});

/** One POST /mcp with exactly these headers (arrays are sent as repeated header lines). */
function post(
  headers: Record<string, string | string[]>,
  body = init,
): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/",
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "content-length": Buffer.byteLength(body),
          connection: "close",
          ...headers,
        },
        timeout: 10_000,
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          body += c;
        });
        res.on("end", () => done({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", fail);
    req.end(body);
  });
}

describe("HTTP gate over a socket", () => {
  const auth = { authorization: `Bearer ${KEY}` };

  it("accepts a loopback Host with the right key and refuses a foreign Host", async () => {
    expect((await post(auth)).status).toBe(200);
    expect((await post({ ...auth, host: "evil.example" })).status).toBe(403);
    expect((await post({ ...auth, host: `localhost:${port}` })).status).toBe(200);
  });

  it("refuses a foreign Origin, also when it is repeated after a loopback one", async () => {
    expect((await post({ ...auth, origin: "http://evil.example" })).status).toBe(403);
    expect((await post({ ...auth, origin: "http://localhost:3000" })).status).toBe(200);
    expect((await post({ ...auth, origin: ["http://localhost:3000", "http://evil.example"] })).status).toBe(
      403,
    );
  });

  it("answers a wrong key 401 and a malformed Authorization header 401", async () => {
    const wrong = await post({ authorization: "Bearer not-the-key" });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toMatchObject({ error: { code: -32001 } });
    expect((await post({ authorization: "Basic abc" })).status).toBe(401);
  });

  it("refuses a declared body over the bound with 413 before reading it", async () => {
    const res = await post({ ...auth, "content-length": "5000" }, "x".repeat(5000));
    expect(res.status).toBe(413);
  });
});
