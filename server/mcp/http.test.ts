/**
 * The HTTP gate, in-process through the hono app: DNS-rebinding defence, body and depth limits,
 * batch refusal, malformed JSON-RPC, unknown methods and session rules — each answered with the
 * right status and JSON-RPC code while the gateway keeps serving.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../gateway/config/load.js";
import { createApp } from "../commands/serve.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";
import { createMcpHttp } from "./http.js";

let dir: string;
let runtime: Runtime;
let gw: ReturnType<typeof createApp>;
const KEY = "http-test-key-42";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-http-"));
  process.env.PORTCULLIS_HTTP_TEST_KEY = KEY;
  process.env.PORTCULLIS_HTTP_TEST_KEY_CAROL = "http-test-key-carol";
  const config = validateConfig({
    server: { maxBodyBytes: 4096, maxJsonDepth: 16 },
    auth: {
      apiKeys: [
        { id: "bob", key: "env:PORTCULLIS_HTTP_TEST_KEY" },
        { id: "carol", key: "env:PORTCULLIS_HTTP_TEST_KEY_CAROL" },
      ],
    },
    audit: { dir: "audit" },
  });
  runtime = createRuntime(config, dir, await createServices(config, dir));
  gw = createApp({ runtime });
});

afterAll(async () => {
  await gw?.mcp.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

const headers = (extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  authorization: `Bearer ${KEY}`,
  ...extra,
});

const post = (body: string, extra: Record<string, string> = {}) =>
  gw.app.request("/mcp", { method: "POST", headers: headers(extra), body });

const init = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});

async function rpcError(res: Response): Promise<number | undefined> {
  const body = (await res.json()) as { error?: { code: number } };
  return body.error?.code;
}

async function session(): Promise<string> {
  const res = await post(init);
  expect(res.status).toBe(200);
  const id = res.headers.get("mcp-session-id");
  expect(id).toBeTruthy();
  await res.text();
  const ack = await post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }), {
    "mcp-session-id": id!,
  });
  expect(ack.status).toBe(202);
  return id!;
}

describe("HTTP gate", () => {
  it("refuses a foreign Origin or Host with 403", async () => {
    expect((await post(init, { origin: "http://evil.example" })).status).toBe(403);
    const res = await gw.app.request("http://evil.example/mcp", {
      method: "POST",
      headers: headers(),
      body: init,
    });
    expect(res.status).toBe(403);
    expect((await post(init, { origin: "http://localhost:3000" })).status).toBe(200);
  });

  it("answers malformed JSON with -32700 and non-JSON-RPC with -32600", async () => {
    const bad = await post("{not json");
    expect(bad.status).toBe(400);
    expect(await rpcError(bad)).toBe(-32700);
    const notRpc = await post(JSON.stringify({ hello: "world" }));
    expect(notRpc.status).toBe(400);
    expect(await rpcError(notRpc)).toBe(-32600);
  });

  it("refuses batch arrays", async () => {
    const res = await post(JSON.stringify([JSON.parse(init)]));
    expect(res.status).toBe(400);
    expect(await rpcError(res)).toBe(-32600);
  });

  it("refuses oversized and deeply nested bodies", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(5000) } });
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(await rpcError(res)).toBe(-32600);
    const deep = `{"jsonrpc":"2.0","id":1,"method":"ping","params":${"[".repeat(40)}${"]".repeat(40)}}`;
    const nested = await post(deep);
    expect(nested.status).toBe(400);
    expect(await rpcError(nested)).toBe(-32600);
  });

  it("needs a session for non-initialize requests and 404s an unknown or deleted one", async () => {
    const noSession = await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }));
    expect(noSession.status).toBe(400);
    const unknown = await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }), {
      "mcp-session-id": "no-such-session",
    });
    expect(unknown.status).toBe(404);
    const id = await session();
    const del = await gw.app.request("/mcp", {
      method: "DELETE",
      headers: headers({ "mcp-session-id": id }),
    });
    expect(del.status).toBe(200);
    const after = await post(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping" }), {
      "mcp-session-id": id,
    });
    expect(after.status).toBe(404);
  });

  it("answers an unknown method with -32601 and keeps serving", async () => {
    const id = await session();
    const res = await post(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "no/such/method" }), {
      "mcp-session-id": id,
      accept: "application/json, text/event-stream",
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("-32601");
    const ping = await post(JSON.stringify({ jsonrpc: "2.0", id: 8, method: "ping" }), {
      "mcp-session-id": id,
    });
    expect(ping.status).toBe(200);
    expect(await ping.text()).toContain('"result":{}');
  });

  it("binds a session to its principal", async () => {
    const id = await session();
    const ping = (auth?: string) =>
      gw.app.request("/mcp", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          "mcp-session-id": id,
          ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping" }),
      });
    expect((await ping("http-test-key-carol")).status).toBe(404); // carol may not use bob's session
    const anonymous = await ping();
    expect(anonymous.status).toBe(401); // with keys configured, /mcp refuses anonymous callers
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer resource_metadata="/);
  });

  it("caps the number of live sessions", async () => {
    const capped = createMcpHttp({
      pipeline: runtime.pipeline,
      limits: { maxBodyBytes: 4096, maxJsonDepth: 16, allowedOrigins: [], allowedHosts: [] },
      maxSessions: 1,
    });
    const send = () =>
      Promise.resolve(capped.app.request("/", { method: "POST", headers: headers(), body: init })).then(
        async (r: Response) => {
          await r.text();
          return r.status;
        },
      );
    expect(await send()).toBe(200);
    expect(await send()).toBe(503);
    await capped.close();
  });
});
