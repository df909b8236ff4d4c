/**
 * The tasks extension through the gateway: the conformance fixture (fixture-modern.mjs over
 * stdio, a 2026-07-28 upstream that creates tasks) behind the gateway's 2026 face, driven with raw
 * stateless requests the way a 2026 client sends them; and a 2025-era client in front of the same
 * upstream, which must get synchronous answers. Also the TaskTable on its own: TTL expiry,
 * principal binding, the bound on its size, and how a DetailedTask maps to the call's outcome.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../gateway/config/load.js";
import type { CapabilitySource, TaskHandle } from "../../gateway/registry/source.js";
import { type App, createApp } from "../commands/serve.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";
import { TaskTable, taskEnd } from "./tasks.js";

const here = import.meta.dirname;
const fixture = join(here, "../../conformance/mcp/fixture-modern.mjs");
const allowAll = JSON.parse(readFileSync(join(here, "../../conformance/policy/allow-all.data.json"), "utf8"));
const TASKS = "io.modelcontextprotocol/tasks";
const KEYS = { carol: "tasks-key-carol-0042", dave: "tasks-key-dave-0042" };

let dir: string;
let runtime: Runtime;
let gw: App;
let seq = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-tasks-"));
  process.env.PORTCULLIS_TASKS_CAROL = KEYS.carol;
  process.env.PORTCULLIS_TASKS_DAVE = KEYS.dave;
  const config = validateConfig({
    auth: {
      apiKeys: [
        { id: "carol", key: "env:PORTCULLIS_TASKS_CAROL", roles: ["user"] },
        { id: "dave", key: "env:PORTCULLIS_TASKS_DAVE", roles: ["user"] },
      ],
    },
    mcpServers: {
      fixture: { command: process.execPath, args: [fixture, "--stdio"], prefix: "", protocol: "2026-07-28" },
    },
    audit: { dir: "audit" },
  });
  runtime = createRuntime(config, dir, await createServices(config, dir, { policyData: allowAll }));
  gw = createApp({ runtime });
});

afterAll(async () => {
  await gw?.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Who = keyof typeof KEYS;
interface Rpc {
  result?: Record<string, unknown> & { content?: { text?: string }[] };
  error?: { code: number; message: string; data?: unknown };
}

/** One stateless 2026-07-28 request, as the conformance harness sends it. */
async function rpc(who: Who, method: string, params: Record<string, unknown>, tasks = true): Promise<Rpc> {
  const name = (params.name ?? params.taskId) as string | undefined;
  const caps = tasks ? { elicitation: {}, extensions: { [TASKS]: {} } } : { elicitation: {} };
  const res = await gw.app.fetch(
    new Request("http://localhost/mcp", {
      method: "POST",
      headers: {
        authorization: `Bearer ${KEYS[who]}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": method,
        ...(name ? { "mcp-name": name } : {}),
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: ++seq,
        method,
        params: {
          ...params,
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": caps,
            "io.modelcontextprotocol/clientInfo": { name: "tasks-test", version: "1.0.0" },
          },
        },
      }),
    }),
  );
  const text = await res.text();
  const data = text.startsWith("{")
    ? text
    : text
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5))
        .at(-1)!;
  return JSON.parse(data) as Rpc;
}

async function settle(who: Who, taskId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const { result, error } = await rpc(who, "tasks/get", { taskId });
    if (error) throw new Error(`${error.code} ${error.message}`);
    if (["completed", "failed", "cancelled"].includes(result!.status as string)) return result!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${taskId} did not end`);
}

/** The audit records of one call, waiting (bounded) until its outcome record is there. */
async function auditOf(callId: string | undefined, tool: string): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 60; i++) {
    const lines = readdirSync(join(dir, "audit"))
      .filter((f) => f.endsWith(".jsonl"))
      .flatMap((f) =>
        readFileSync(join(dir, "audit", f), "utf8")
          .trim()
          .split("\n"),
      )
      .map((l) => JSON.parse(l) as Record<string, unknown> & { target: { name: string } });
    const mine = lines.filter((r) => r.target?.name === tool && (callId === undefined || r.id === callId));
    if (mine.some((r) => r.kind === "outcome")) return mine;
    await new Promise((r) => setTimeout(r, 50));
  }
  return [];
}

describe("tasks through the gateway (2026 client)", () => {
  it("advertises the extension and relays a task to its exact result under a gateway task id", async () => {
    const discover = await rpc("carol", "server/discover", {});
    expect((discover.result!.capabilities as { extensions?: object }).extensions).toEqual({ [TASKS]: {} });
    const created = (
      await rpc("carol", "tools/call", { name: "slow_compute", arguments: { seconds: 0.2, label: "x" } })
    ).result!;
    expect(created).toMatchObject({ resultType: "task", status: "working" });
    expect(created).not.toHaveProperty("requestState");
    const done = await settle("carol", created.taskId as string);
    expect(done).toMatchObject({ resultType: "complete", taskId: created.taskId, status: "completed" });
    expect(done.result).toEqual({ content: [{ type: "text", text: "computed 'x' after 0.2s" }] });
    const [decision, outcome] = await auditOf(undefined, "slow_compute");
    expect(decision).toMatchObject({ kind: "decision", decision: "allow" });
    expect(outcome).toMatchObject({ kind: "outcome", id: decision!.id, outcome: { status: "ok" } });
  });

  it("refuses another principal's task as unknown, and tasks/* without the declaration with -32021", async () => {
    const created = (await rpc("carol", "tools/call", { name: "slow_compute", arguments: { seconds: 5 } }))
      .result!;
    const taskId = created.taskId as string;
    for (const method of ["tasks/get", "tasks/cancel"]) {
      expect((await rpc("dave", method, { taskId })).error?.code).toBe(-32602);
    }
    expect((await rpc("dave", "tasks/update", { taskId, inputResponses: {} })).error?.code).toBe(-32602);
    const gated = await rpc("carol", "tasks/get", { taskId }, false);
    expect(gated.error).toMatchObject({
      code: -32021,
      data: { requiredCapabilities: { extensions: { [TASKS]: {} } } },
    });
    expect((await rpc("carol", "tasks/get", { taskId: "no-such-task" })).error?.code).toBe(-32602);
    expect((await rpc("carol", "tasks/cancel", { taskId })).result).toEqual(
      expect.objectContaining({ resultType: "complete" }),
    );
  });

  it("cancels a running task; the outcome record says cancelled", async () => {
    const created = (
      await rpc("carol", "tools/call", { name: "slow_compute", arguments: { seconds: 60, label: "c" } })
    ).result!;
    const ack = (await rpc("carol", "tasks/cancel", { taskId: created.taskId as string })).result!;
    expect(Object.keys(ack).filter((k) => k !== "_meta")).toEqual(["resultType"]);
    expect((await settle("carol", created.taskId as string)).status).toBe("cancelled");
    const records = await auditOf(undefined, "slow_compute");
    expect(records.some((r) => (r.outcome as { status?: string })?.status === "cancelled")).toBe(true);
  });

  it("tells a tool error (completed, isError) from a protocol error (failed), in the audit too", async () => {
    const failing = (await rpc("carol", "tools/call", { name: "failing_job", arguments: {} })).result!;
    const broken = (await rpc("carol", "tools/call", { name: "protocol_error_job", arguments: {} })).result!;
    const toolError = await settle("carol", failing.taskId as string);
    expect(toolError).toMatchObject({ status: "completed", result: { isError: true } });
    const protocolError = await settle("carol", broken.taskId as string);
    expect(protocolError).toMatchObject({ status: "failed", error: { code: -32603 } });
    expect(protocolError).not.toHaveProperty("result");
    const [, failingOutcome] = await auditOf(undefined, "failing_job");
    expect(failingOutcome!.outcome).toMatchObject({ status: "error" });
    expect(failingOutcome!.outcome).not.toHaveProperty("error");
    const [, brokenOutcome] = await auditOf(undefined, "protocol_error_job");
    expect(brokenOutcome!.outcome).toMatchObject({ status: "error", error: { code: "JSONRPC_-32603" } });
  });

  it("relays a task's input requests and the client's tasks/update", async () => {
    const created = (
      await rpc("carol", "tools/call", { name: "confirm_delete", arguments: { filename: "a.txt" } })
    ).result!;
    const taskId = created.taskId as string;
    let now = (await rpc("carol", "tasks/get", { taskId })).result!;
    for (let i = 0; i < 50 && now.status !== "input_required"; i++)
      now = (await rpc("carol", "tasks/get", { taskId })).result!;
    expect(Object.keys(now.inputRequests as object)).toEqual(["confirm"]);
    const ack = await rpc("carol", "tasks/update", {
      taskId,
      inputResponses: { confirm: { action: "accept", content: { confirm: true } } },
    });
    expect(ack.result).toMatchObject({ resultType: "complete" });
    expect((await settle("carol", taskId)).result).toEqual({
      content: [{ type: "text", text: "deleted a.txt" }],
    });
  });

  it("answers a client that did not declare tasks synchronously, or with the upstream's -32021", async () => {
    const sync = await rpc(
      "carol",
      "tools/call",
      { name: "slow_compute", arguments: { seconds: 0, label: "s" } },
      false,
    );
    expect(sync.result).toMatchObject({
      resultType: "complete",
      content: [{ text: "computed 's' after 0s" }],
    });
    const required = await rpc("carol", "tools/call", { name: "failing_job", arguments: {} }, false);
    expect(required.error?.code).toBe(-32021);
  });
});

describe("a 2025-era client in front of a task-creating upstream", () => {
  async function legacyClient(): Promise<Client> {
    const client = new Client(
      { name: "legacy", version: "1.0.0" },
      { capabilities: { elicitation: { form: {} } } },
    );
    client.setRequestHandler(ElicitRequestSchema, async () => ({
      action: "accept",
      content: { confirm: true },
    }));
    const transport = new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
      fetch: (url, init) => Promise.resolve(gw.app.fetch(new Request(url, init))),
      requestInit: { headers: { Authorization: `Bearer ${KEYS.carol}` } },
    });
    await client.connect(transport);
    return client;
  }

  it("gets every task tool's answer synchronously, input requests relayed as elicitation", async () => {
    const client = await legacyClient();
    try {
      expect(
        await client.callTool({ name: "slow_compute", arguments: { seconds: 0.1, label: "l" } }),
      ).toMatchObject({
        content: [{ type: "text", text: "computed 'l' after 0.1s" }],
      });
      // A tool that requires tasks: the gateway declares them upstream and follows the task.
      const failing = await client.callTool({ name: "failing_job", arguments: {} });
      expect(failing).toMatchObject({ isError: true, content: [{ text: "failing_job: the job failed" }] });
      expect(
        await client.callTool({ name: "confirm_delete", arguments: { filename: "b.txt" } }),
      ).toMatchObject({
        content: [{ type: "text", text: "deleted b.txt" }],
      });
      await expect(client.callTool({ name: "protocol_error_job", arguments: {} })).rejects.toThrow(
        /internal failure/,
      );
    } finally {
      await client.close();
    }
  });
});

describe("TaskTable", () => {
  const source = { name: "up" } as CapabilitySource;
  const handle = (ttlMs?: number): TaskHandle => ({
    resultType: "task",
    taskId: "upstream-1",
    status: "working",
    ...(ttlMs !== undefined ? { ttlMs } : {}),
  });
  const call = (principal: string) => ({ callId: "c1", principal, tool: "t", source });

  it("mints its own id, binds the task to its principal and expires it after its TTL", async () => {
    const table = new TaskTable();
    const h = handle(60);
    const ended = table.adopt(h, call("carol"));
    expect(h.taskId).not.toBe("upstream-1");
    expect(table.lookup(h.taskId, "carol")).toMatchObject({ upstreamId: "upstream-1" });
    expect(table.lookup(h.taskId, "dave")).toBeUndefined();
    const end = await ended;
    expect(end.status).toBe("timeout");
    expect(table.lookup(h.taskId, "carol")).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it("keeps at most maxTasks, dropping the oldest with an error outcome", async () => {
    const table = new TaskTable({ maxTasks: 2 });
    const first = table.adopt(handle(), call("carol"));
    table.adopt(handle(), call("carol"));
    table.adopt(handle(), call("carol"));
    expect(table.size).toBe(2);
    expect((await first).status).toBe("error");
    table.close();
    expect(table.size).toBe(0);
  });

  it("settles on the first terminal status it observes", async () => {
    const table = new TaskTable();
    const h = handle();
    const ended = table.adopt(h, call("carol"));
    const entry = table.lookup(h.taskId, "carol")!;
    table.observe(entry, { status: "working" });
    table.observe(entry, { status: "completed", result: { content: [], isError: true } });
    table.observe(entry, { status: "cancelled" });
    expect(await ended).toEqual({ status: "error", result: { content: [], isError: true } });
    expect(taskEnd({ status: "input_required" })).toBeUndefined();
    expect(taskEnd({ status: "failed", error: { code: -32000, message: "x" } })?.status).toBe("error");
    table.close();
  });
});
