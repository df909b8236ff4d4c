/**
 * Plain 2025-era tool calls are answered with one JSON body; a call with a progress token, a
 * session whose client may be asked (elicitation), or `jsonResponses: false` keeps the SSE stream.
 * In-process through the hono app with the built-in tools as the only source.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../gateway/config/load.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";
import { createMcpHttp, type McpHttp } from "./http.js";

let dir: string;
let runtime: Runtime;
const limits = { maxBodyBytes: 65536, maxJsonDepth: 32, allowedOrigins: [], allowedHosts: [] };
let json: McpHttp;
let sse: McpHttp;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-json-reply-"));
  const config = validateConfig({ auth: { localHttpPrincipal: "local" }, audit: { dir: "audit" } });
  runtime = createRuntime(config, dir, await createServices(config, dir));
  json = createMcpHttp({ pipeline: runtime.pipeline, limits });
  sse = createMcpHttp({ pipeline: runtime.pipeline, limits, jsonResponses: false });
});

afterAll(async () => {
  await json?.close();
  await sse?.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = { "content-type": "application/json", accept: "application/json, text/event-stream" };

async function session(http: McpHttp, capabilities: Record<string, unknown> = {}) {
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    http.app.request("/", {
      method: "POST",
      headers: { ...base, ...headers },
      body: JSON.stringify(body),
    });
  const init = await post({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities, clientInfo: { name: "t", version: "1" } },
  });
  const id = init.headers.get("mcp-session-id")!;
  await init.text();
  const h = { "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" };
  await (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, h)).text();
  return (body: unknown, extra: Record<string, string> = {}) => post(body, { ...h, ...extra });
}

const call = (id: number, name: string, meta?: Record<string, unknown>) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: {}, ...(meta ? { _meta: meta } : {}) },
});

describe("JSON replies to plain tool calls", () => {
  it("answers a plain call, and a failing one, with one JSON body", async () => {
    const post = await session(json);
    const list = await post({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    expect(list.headers.get("content-type")).toContain("text/event-stream");
    await list.text();
    const res = await post(call(3, "memory__query"));
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("mcp-session-id")).toBeTruthy();
    const body = (await res.json()) as { id: number; result?: { content: unknown[] } };
    expect(body.id).toBe(3);
    expect(Array.isArray(body.result?.content)).toBe(true);
    const unknown = await post(call(4, "nope__nothing"));
    expect(unknown.headers.get("content-type")).toBe("application/json");
    expect(((await unknown.json()) as { error: { code: number } }).error.code).toBe(-32602);
    const badVersion = await post(call(5, "memory__query"), { "mcp-protocol-version": "1999-01-01" });
    expect(badVersion.status).toBe(400);
    await badVersion.text();
  });

  it("streams calls that may send messages before their result", async () => {
    const post = await session(json);
    const progress = await post(call(2, "memory__query", { progressToken: "p" }));
    expect(progress.headers.get("content-type")).toContain("text/event-stream");
    expect(await progress.text()).toContain('"id":2');
    const asking = await session(json, { elicitation: {} });
    const res = await asking(call(3, "memory__query"));
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    await res.text();
    const off = await session(sse);
    const plain = await off(call(4, "memory__query"));
    expect(plain.headers.get("content-type")).toContain("text/event-stream");
    await plain.text();
  });
});
