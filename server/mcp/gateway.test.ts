/**
 * End-to-end through the gateway with published servers as stdio upstreams
 * (@modelcontextprotocol/server-everything and server-filesystem), driven by the SDK client over
 * Streamable HTTP (in-process fetch) and over stdio (linked streams): listing, calls, progress,
 * relayed elicitation, a denied call, ask_user approved and declined, and the audit trail.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ElicitRequestSchema, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyData as buildPolicyData } from "../../conformance/policy/settings.js";
import { verifyAudit } from "../../gateway/audit/index.js";
import { validateConfig } from "../../gateway/config/load.js";
import { digest } from "../../native/index.js";
import { createApp } from "../commands/serve.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices, type GatewayServices } from "../services.js";
import { serveStdio } from "./stdio.js";

const require = createRequire(import.meta.url);
const everything = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");
const filesystem = require.resolve("@modelcontextprotocol/server-filesystem/dist/index.js");
const KEY = "test-key-0123456789";

const policyData = buildPolicyData(
  [
    { id: "no-sum", effect: "deny", names: ["everything__get-sum"] },
    { id: "ask-image", effect: "ask", names: ["everything__get-tiny-image"] },
    { id: "allow-rest", effect: "allow" },
  ],
  {
    ask: { destructive: false, open_world: false },
    secrets: { classes: ["secret"], action: "allow" },
    models: { allowed: ["*"], local_only_classes: [] },
  },
);

let dir: string;
let runtime: Runtime;
let services: GatewayServices;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-gw-"));
  mkdirSync(join(dir, "files"));
  writeFileSync(join(dir, "files", "hello.txt"), "hello from the workspace\n");
  process.env.PORTCULLIS_TEST_KEY = KEY;
  const config = validateConfig({
    auth: { apiKeys: [{ id: "alice", key: "env:PORTCULLIS_TEST_KEY", roles: ["user"] }] },
    mcpServers: {
      everything: { command: process.execPath, args: [everything, "stdio"] },
      filesystem: { command: process.execPath, args: [filesystem, join(dir, "files")] },
    },
    audit: { dir: "audit" },
  });
  services = await createServices(config, dir, { policyData });
  runtime = createRuntime(config, dir, services);
  app = createApp({ runtime });
});

afterAll(async () => {
  await app?.mcp.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Answer = { action: "accept" | "decline" | "cancel"; content?: Record<string, unknown> };

/** An SDK client over in-process HTTP; `answer` replies to approval forms and upstream forms. */
async function httpClient(answer: (params: { message: string; requestedSchema?: unknown }) => Answer) {
  const client = new Client(
    { name: "test", version: "1.0.0" },
    { capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler(ElicitRequestSchema, async (req) => answer(req.params as { message: string }));
  const transport = new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
    fetch: (url, init) => Promise.resolve(app.app.fetch(new Request(url, init))),
    requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
  });
  await client.connect(transport as Transport);
  return client;
}

const isApprovalForm = (p: { requestedSchema?: unknown }) =>
  JSON.stringify(p.requestedSchema ?? {}).includes('"approve"');

describe("gateway over Streamable HTTP", () => {
  it("lists the tools of both upstreams, prefixed, without the denied one", async () => {
    const client = await httpClient(() => ({ action: "decline" }));
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain("everything__echo");
    expect(names).toContain("filesystem__read_text_file");
    expect(names).not.toContain("everything__get-sum");
    await client.close();
  });

  it("calls tools on both upstreams", async () => {
    const client = await httpClient(() => ({ action: "decline" }));
    const echo = await client.callTool({ name: "everything__echo", arguments: { message: "hi" } });
    expect(echo.content).toEqual([{ type: "text", text: "Echo: hi" }]);
    const file = await client.callTool({
      name: "filesystem__read_text_file",
      arguments: { path: join(dir, "files", "hello.txt") },
    });
    expect(JSON.stringify(file.content)).toContain("hello from the workspace");
    await client.close();
  });

  it("relays progress notifications with the client's token", async () => {
    const client = await httpClient(() => ({ action: "decline" }));
    const seen: number[] = [];
    const result = await client.callTool(
      { name: "everything__trigger-long-running-operation", arguments: { duration: 0.3, steps: 3 } },
      undefined,
      { onprogress: (p) => seen.push(p.progress) },
    );
    expect(seen).toEqual([1, 2, 3]);
    expect(JSON.stringify(result.content)).toContain("Long running operation completed");
    await client.close();
  });

  it("relays an upstream's elicitation to the client and its answer back", async () => {
    const client = await httpClient((p) =>
      isApprovalForm(p)
        ? { action: "decline" }
        : { action: "accept", content: { name: "Ada Lovelace", check: true } },
    );
    const result = await client.callTool({ name: "everything__trigger-elicitation-request", arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result.content)).toContain("Ada Lovelace");
    await client.close();
  });

  it("denies a call the policy refuses with isError and the reasons", async () => {
    const client = await httpClient(() => ({ action: "decline" }));
    const result = await client.callTool({ name: "everything__get-sum", arguments: { a: 1, b: 2 } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({
      decision: "deny",
      reasons: [{ code: "DENIED_BY_RULE" }],
    });
    await client.close();
  });

  it("asks the user for an ask_user call and runs it when approved", async () => {
    const prompts: string[] = [];
    const client = await httpClient((p) => {
      prompts.push(p.message);
      return { action: "accept", content: { approve: true } };
    });
    const result = await client.callTool({ name: "everything__get-tiny-image", arguments: {} });
    expect(result.isError).toBeFalsy();
    expect((result.content as Array<{ type: string }>).some((c) => c.type === "image")).toBe(true);
    expect(prompts).toHaveLength(1);
    await client.close();
  });

  it("refuses an ask_user call the user declines", async () => {
    const client = await httpClient(() => ({ action: "decline" }));
    const result = await client.callTool({ name: "everything__get-tiny-image", arguments: {} });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ decision: "deny" });
    expect(JSON.stringify(result.structuredContent)).toContain("APPROVAL_DENIED");
    await client.close();
  });

  it("names the missing approval when the client cannot be asked", async () => {
    const client = new Client({ name: "plain", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
      fetch: (url, init) => Promise.resolve(app.app.fetch(new Request(url, init))),
      requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
    });
    await client.connect(transport as Transport);
    // Other arguments than the declined call above: a refusal is bound to the argument digest.
    const result = await client.callTool({ name: "everything__get-tiny-image", arguments: { note: "x" } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.structuredContent)).toContain("APPROVAL_UNAVAILABLE");
    await client.close();
  });

  it("refuses an unknown API key with 401 and an unknown tool with InvalidParams", async () => {
    const res = await app.app.request("/mcp", {
      method: "POST",
      headers: {
        Authorization: "Bearer wrong",
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
    });
    expect(res.status).toBe(401);
    const client = await httpClient(() => ({ action: "decline" }));
    await expect(client.callTool({ name: "nope__missing", arguments: {} })).rejects.toMatchObject({
      code: -32602,
    });
    await client.close();
  });

  it("fails a call promptly when its upstream dies, then restarts the upstream", async () => {
    const client = await httpClient(() => ({ action: "decline" }));
    const upstream = runtime.pool.get("everything")!;
    const pid = upstream.health().pid!;
    const started = Date.now();
    const call = client.callTool({
      name: "everything__trigger-long-running-operation",
      arguments: { duration: 30, steps: 2 },
    });
    setTimeout(() => process.kill(pid, "SIGKILL"), 300);
    const result = await call;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain("GW_ERR_UPSTREAM_UNAVAILABLE");
    for (let i = 0; i < 100 && upstream.health().state !== "ready"; i++)
      await new Promise((r) => setTimeout(r, 50));
    const echo = await client.callTool({ name: "everything__echo", arguments: { message: "again" } });
    expect(echo.content).toEqual([{ type: "text", text: "Echo: again" }]);
    expect(upstream.health().pid).not.toBe(pid);
    await client.close();
  });

  it("publishes call.started and call.completed on the session event bus", async () => {
    const seen: Array<{ kind: string; data: Record<string, unknown> }> = [];
    const off = services.bus.subscribe("*", (e) =>
      seen.push({ kind: e.kind, data: e.data as Record<string, unknown> }),
    );
    const client = await httpClient(() => ({ action: "decline" }));
    await client.callTool({ name: "everything__echo", arguments: { message: "events" } });
    off();
    await client.close();
    expect(seen.map((e) => e.kind)).toEqual(["call.started", "call.completed"]);
    expect(seen[1]!.data).toMatchObject({
      tool: "everything__echo",
      status: "ok",
      target_kind: "tool",
      target: "everything__echo",
    });
    expect(seen[0]!.data.call_id).toBe(seen[1]!.data.call_id);
  });

  it("publishes call events for prompt gets and resource reads, naming the prompt and URI", async () => {
    const seen: Array<{ kind: string; data: Record<string, unknown> }> = [];
    const off = services.bus.subscribe("*", (e) =>
      seen.push({ kind: e.kind, data: e.data as Record<string, unknown> }),
    );
    const client = await httpClient(() => ({ action: "decline" }));
    await client.getPrompt({ name: "everything__simple-prompt" });
    const { resources } = await client.listResources();
    const uri = resources.find((r) => r.uri.startsWith("demo://"))!.uri;
    await client.readResource({ uri });
    off();
    await client.close();
    expect(seen.map((e) => e.kind)).toEqual([
      "call.started",
      "call.completed",
      "call.started",
      "call.completed",
    ]);
    expect(seen[1]!.data).toMatchObject({
      tool: "prompts/get",
      target_kind: "prompt",
      target: "everything__simple-prompt",
      status: "ok",
    });
    expect(seen[3]!.data).toMatchObject({
      tool: "resources/read",
      target_kind: "resource",
      target: uri,
      status: "ok",
    });
  });

  it("resumes a dropped SSE response with Last-Event-ID", async () => {
    const h = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${KEY}`,
    };
    const post = (body: unknown, extra: Record<string, string> = {}) =>
      Promise.resolve(
        app.app.fetch(
          new Request("http://localhost/mcp", {
            method: "POST",
            headers: { ...h, ...extra },
            body: JSON.stringify(body),
          }),
        ),
      );
    const init = await post({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    });
    const session = init.headers.get("mcp-session-id")!;
    await init.text();
    await (
      await post({ jsonrpc: "2.0", method: "notifications/initialized" }, { "mcp-session-id": session })
    ).text();
    const call = await post(
      {
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: {
          name: "everything__trigger-long-running-operation",
          arguments: { duration: 0.6, steps: 3 },
          _meta: { progressToken: "resume-me" },
        },
      },
      { "mcp-session-id": session },
    );
    expect(call.headers.get("content-type")).toContain("text/event-stream");
    const reader = call.body!.getReader();
    let text = "";
    let lastId: string | undefined;
    while (!lastId) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      lastId = /^id: (.+)$/m.exec(text)?.[1];
    }
    await reader.cancel();
    expect(lastId).toBeTruthy();
    await new Promise((r) => setTimeout(r, 900));
    const resumed = await Promise.resolve(
      app.app.fetch(
        new Request("http://localhost/mcp", {
          method: "GET",
          headers: {
            accept: "text/event-stream",
            authorization: `Bearer ${KEY}`,
            "mcp-session-id": session,
            "last-event-id": lastId!,
          },
        }),
      ),
    );
    expect(resumed.status).toBe(200);
    const r2 = resumed.body!.getReader();
    let replay = "";
    const until = Date.now() + 3000;
    while (!replay.includes('"id":2') && Date.now() < until) {
      const { value, done } = await r2.read();
      if (done) break;
      replay += new TextDecoder().decode(value);
    }
    await r2.cancel();
    expect(replay).toContain("Long running operation completed");
  });

  it("forwards a client's cancellation upstream and audits the call as cancelled", async () => {
    const client = await httpClient(() => ({ action: "decline" }));
    const abort = new AbortController();
    const args = { duration: 20, steps: 2, tag: "cancel-me" };
    const started = Date.now();
    const call = client.callTool(
      { name: "everything__trigger-long-running-operation", arguments: args },
      undefined,
      { signal: abort.signal },
    );
    setTimeout(() => abort.abort("changed my mind"), 300);
    await expect(call).rejects.toBeTruthy();
    expect(Date.now() - started).toBeLessThan(5000);
    await client.close();
    const want = digest(args);
    let outcome: { outcome?: { status: string } } | undefined;
    for (let i = 0; i < 50 && !outcome; i++) {
      const audit = join(dir, "audit");
      for (const f of readdirSync(audit).filter((n) => n.endsWith(".jsonl")))
        for (const line of readFileSync(join(audit, f), "utf8").split("\n"))
          if (line.includes(want) && line.includes('"kind":"outcome"')) outcome = JSON.parse(line);
      if (!outcome) await new Promise((r) => setTimeout(r, 50));
    }
    expect(outcome?.outcome?.status).toBe("cancelled");
  });

  it("kept a verifiable audit trail with a decision and an outcome record per call", async () => {
    const report = await verifyAudit(join(dir, "audit"));
    expect(report.ok).toBe(true);
    expect(report.records).toBeGreaterThan(10);
  });
});

/** A linked pair of streams: what one side writes the other reads. */
function stdioPair() {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const clientTransport: Transport = {
    async start() {
      let buf = "";
      toClient.on("data", (chunk: Buffer) => {
        buf += chunk.toString("utf8");
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) clientTransport.onmessage?.(JSON.parse(line) as JSONRPCMessage);
        }
      });
    },
    async send(message) {
      toServer.write(`${JSON.stringify(message)}\n`);
    },
    async close() {
      toServer.end();
      clientTransport.onclose?.();
    },
  };
  return { clientTransport, io: { stdin: toServer, stdout: toClient } };
}

describe("gateway over stdio", () => {
  it("serves the local principal: list, call, deny", async () => {
    const { clientTransport, io } = stdioPair();
    const served = serveStdio(runtime.pipeline, io);
    const client = new Client({ name: "ide", version: "1.0.0" });
    await client.connect(clientTransport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("everything__echo");
    const echo = await client.callTool({ name: "everything__echo", arguments: { message: "stdio" } });
    expect(echo.content).toEqual([{ type: "text", text: "Echo: stdio" }]);
    const denied = await client.callTool({ name: "everything__get-sum", arguments: { a: 1, b: 2 } });
    expect(denied.isError).toBe(true);
    await client.close();
    await served;
    const report = await verifyAudit(join(dir, "audit"));
    expect(report.ok).toBe(true);
  });
});
