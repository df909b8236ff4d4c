/**
 * The fast path for plain tool calls, over stdio with raw JSON-RPC lines (server-everything as the
 * upstream): the same call answered by the fast path and by the SDK path (a progress token sends
 * it there) gives the same response — success, policy denial, unknown tool, bad arguments — and a
 * cancelled plain call gets no response and is audited as cancelled. Also the classifier itself.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyData as buildPolicyData } from "../../conformance/policy/settings.js";
import { validateConfig } from "../../gateway/config/load.js";
import { isTextOnlyResult as isPlainTextResult } from "../../gateway/registry/text-result.js";
import { digest } from "../../native/index.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";
import { createMcpHttp } from "./http.js";
import { AfterReply, isPlainToolCall } from "./plain-call.js";
import { createSession } from "./session.js";
import { serveStdio } from "./stdio.js";

const require = createRequire(import.meta.url);
const everything = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");

let dir: string;
let runtime: Runtime;
let services: Awaited<ReturnType<typeof createServices>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-plain-"));
  const config = validateConfig({
    mcpServers: { everything: { command: process.execPath, args: [everything, "stdio"], prefix: "" } },
    audit: { dir: "audit" },
  });
  const policyData = buildPolicyData(
    [
      { id: "no-sum", effect: "deny", names: ["get-sum"] },
      { id: "allow-rest", effect: "allow" },
    ],
    {
      ask: { destructive: false, open_world: false },
      secrets: { classes: ["secret"], action: "allow" },
      models: { allowed: ["*"], local_only_classes: [] },
    },
  );
  services = await createServices(config, dir, { policyData });
  runtime = createRuntime(config, dir, services);
});

afterAll(async () => {
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw JSON-RPC line client of `serveStdio`. */
function rawClient() {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const served = serveStdio(runtime.pipeline, { stdin, stdout });
  const received: Array<Record<string, unknown>> = [];
  const waiting = new Map<unknown, (m: Record<string, unknown>) => void>();
  let buf = "";
  stdout.on("data", (chunk: Buffer) => {
    buf += chunk.toString("utf8");
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const m = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
      buf = buf.slice(i + 1);
      received.push(m);
      waiting.get(m.id)?.(m);
    }
  });
  const send = (m: object) => stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...m })}\n`);
  const request = (id: string | number, method: string, params: object) =>
    new Promise<Record<string, unknown>>((resolve) => {
      waiting.set(id, resolve);
      send({ id, method, params });
    });
  const close = async () => {
    stdin.end();
    await served;
  };
  return { send, request, received, close };
}

async function initialized(c: ReturnType<typeof rawClient>) {
  await c.request(0, "initialize", {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "raw", version: "1.0.0" },
  });
  c.send({ method: "notifications/initialized" });
}

describe("plain tool calls over stdio", () => {
  it("answers exactly as the SDK path does", async () => {
    const c = rawClient();
    await initialized(c);
    const cases: Array<[string, Record<string, unknown>]> = [
      ["echo", { message: "fast" }],
      ["get-sum", { a: 1, b: 2 }],
      ["no-such-tool", {}],
      ["echo", {}],
    ];
    let id = 1;
    for (const [name, args] of cases) {
      const fast = await c.request(id++, "tools/call", { name, arguments: args });
      const sdk = await c.request(id++, "tools/call", {
        name,
        arguments: args,
        _meta: { progressToken: "p" },
      });
      const { id: _f, ...fastBody } = fast;
      const { id: _s, ...sdkBody } = sdk;
      expect(fastBody).toEqual(sdkBody);
    }
    const [echo, denied, unknown, badArgs] = await Promise.all(
      cases.map(([name, args]) =>
        c.request(`again-${name}-${id++}`, "tools/call", { name, arguments: args }),
      ),
    );
    expect(echo!.result).toEqual({ content: [{ type: "text", text: "Echo: fast" }] });
    expect((denied!.result as { isError?: boolean }).isError).toBe(true);
    expect((unknown!.error as { code: number }).code).toBe(-32602);
    expect((badArgs!.result as { isError?: boolean }).isError).toBe(true);
    // Malformed params are the SDK's to refuse (with its own error).
    const malformed = await c.request(99, "tools/call", { name: "echo", arguments: [1] });
    expect(malformed.error).toMatchObject({ message: expect.stringContaining("expected record") });
    await c.close();
  });

  it("sends no response to a cancelled plain call and audits it as cancelled", async () => {
    const c = rawClient();
    await initialized(c);
    c.send({
      id: "long",
      method: "tools/call",
      params: { name: "trigger-long-running-operation", arguments: { duration: 5, steps: 5 } },
    });
    await new Promise((r) => setTimeout(r, 300));
    c.send({ method: "notifications/cancelled", params: { requestId: "long", reason: "enough" } });
    const after = await c.request("next", "tools/call", {
      name: "echo",
      arguments: { message: "still here" },
    });
    expect(after.result).toEqual({ content: [{ type: "text", text: "Echo: still here" }] });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.received.some((m) => m.id === "long")).toBe(false);
    await c.close();
    expect(await auditedStatus("trigger-long-running-operation", { duration: 5, steps: 5 })).toBe(
      "cancelled",
    );
  });
});

/** The outcome status of the audited call to `tool` with these arguments. */
async function auditedStatus(tool: string, args: Record<string, unknown>): Promise<string | undefined> {
  const marker = digest(args);
  for (let i = 0; i < 50; i++) {
    for (const f of readdirSync(join(dir, "audit")).filter((n) => n.endsWith(".jsonl")))
      for (const line of readFileSync(join(dir, "audit", f), "utf8").split("\n"))
        if (line.includes(tool) && line.includes(marker) && line.includes('"kind":"outcome"'))
          return (JSON.parse(line) as { outcome: { status: string } }).outcome.status;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

describe("plain tool calls over Streamable HTTP", () => {
  it("cancels a running plain call: its POST gets 202 and no body, the call is audited cancelled", async () => {
    const limits = { maxBodyBytes: 65536, maxJsonDepth: 32, allowedOrigins: [], allowedHosts: [] };
    const http = createMcpHttp({
      pipeline: runtime.pipeline,
      limits,
      authenticated: () => ({ id: "local", roles: [], authenticated: true, via: "anonymous" }),
    });
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const post = (body: object, extra: Record<string, string> = {}) =>
      http.app.request("/", {
        method: "POST",
        headers: { ...headers, ...extra },
        body: JSON.stringify({ jsonrpc: "2.0", ...body }),
      });
    const init = await post({
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    });
    await init.text();
    const h = { "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-11-25" };
    await (await post({ method: "notifications/initialized" }, h)).text();
    const running = post(
      {
        id: 7,
        method: "tools/call",
        params: { name: "trigger-long-running-operation", arguments: { duration: 4, steps: 4 } },
      },
      h,
    );
    await new Promise((r) => setTimeout(r, 300));
    const cancel = await post(
      { method: "notifications/cancelled", params: { requestId: 7, reason: "enough" } },
      h,
    );
    expect(cancel.status).toBe(202);
    const answered = await running;
    expect(answered.status).toBe(202);
    expect(await answered.text()).toBe("");
    expect(await auditedStatus("trigger-long-running-operation", { duration: 4, steps: 4 })).toBe(
      "cancelled",
    );
    await http.close();
  });
});

describe("work after the reply", () => {
  const call = (id: number) =>
    ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "echo", arguments: { message: "x" } },
    }) as const;

  it("call.completed goes to the transport's afterReply and is published when it runs; without one, at once", async () => {
    const seen: string[] = [];
    const off = services.bus.subscribe("*", (e) => seen.push(e.kind));
    try {
      const { plain } = createSession({
        pipeline: runtime.pipeline,
        transport: "stdio",
        session: "after-reply",
        credentials: { kind: "stdio" },
      });
      const after = new AfterReply();
      const reply = await plain.answer(call(1), { notify: async () => {}, afterReply: after.add });
      expect(reply).toMatchObject({ id: 1, result: { content: [{ type: "text", text: "Echo: x" }] } });
      await new Promise((r) => setImmediate(r));
      expect(seen).toEqual(["call.started"]);
      after.run();
      expect(seen).toEqual(["call.started", "call.completed"]);
      await plain.answer(call(2), { notify: async () => {} });
      expect(seen).toEqual(["call.started", "call.completed", "call.started", "call.completed"]);
    } finally {
      off();
    }
  });

  it("AfterReply runs its tasks once, in order, later ones at once, past a throwing one", () => {
    const order: string[] = [];
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    const after = new AfterReply();
    after.add(() => order.push("a"));
    after.add(() => {
      throw new Error("boom");
    });
    after.add(() => order.push("b"));
    expect(order).toEqual([]);
    after.run();
    after.run();
    after.add(() => order.push("c"));
    expect(order).toEqual(["a", "b", "c"]);
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        process.off("warning", onWarning);
        expect(warnings.some((w) => w.includes("boom"))).toBe(true);
        resolve();
      }),
    );
  });
});

describe("the plain-call classifier", () => {
  const call = (params: unknown, id: unknown = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params });
  it("takes only well-formed calls that cannot ask the client anything", () => {
    expect(isPlainToolCall(call({ name: "t", arguments: { a: 1 } }), {})).toBe(true);
    expect(isPlainToolCall(call({ name: "t", _meta: { trace: "x" } }), { roots: {} })).toBe(true);
    expect(isPlainToolCall(call({ name: "t" }), undefined)).toBe(false);
    expect(isPlainToolCall(call({ name: "t" }), { elicitation: {} })).toBe(false);
    expect(isPlainToolCall(call({ name: "t" }), { sampling: {} })).toBe(false);
    expect(isPlainToolCall(call({ name: "t", _meta: { progressToken: 1 } }), {})).toBe(false);
    expect(isPlainToolCall(call({ name: "t", task: {} }), {})).toBe(false);
    expect(isPlainToolCall(call({ name: "t", arguments: [] }), {})).toBe(false);
    expect(isPlainToolCall(call({ name: 3 }), {})).toBe(false);
    expect(isPlainToolCall(call({ name: "t" }, 1.5), {})).toBe(false);
    expect(isPlainToolCall(call({ name: "t" }, null), {})).toBe(false);
    expect(isPlainToolCall({ ...call({ name: "t" }), method: "tools/list" }, {})).toBe(false);
  });
  it("skips the result schema only for text-only results", () => {
    expect(isPlainTextResult({ content: [{ type: "text", text: "x" }] })).toBe(true);
    expect(isPlainTextResult({ content: [], isError: true })).toBe(true);
    expect(isPlainTextResult({ content: [{ type: "text", text: "x", annotations: {} }] })).toBe(false);
    expect(isPlainTextResult({ content: [{ type: "image", data: "", mimeType: "image/png" }] })).toBe(false);
    expect(isPlainTextResult({ content: [], structuredContent: {} })).toBe(false);
    expect(isPlainTextResult({ isError: true })).toBe(false);
    expect(isPlainTextResult({ content: [], isError: "yes" })).toBe(false);
  });
});
