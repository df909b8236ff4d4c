/**
 * Both client eras in front of a 2026-07-28 upstream (the conformance fixture over stdio, linked
 * with `protocol: "2026-07-28"`) and of the same fixture linked in the 2025 era: an input-required
 * tool answered by a 2025 client (elicitation, sampling and roots requests sent to it) and by a
 * 2026 client (the rounds relayed with the upstream's keys), each one decided and audited call;
 * logging/setLevel forwarded; list_changed from either upstream reaching a connected 2025 client.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../../gateway/audit/index.js";
import { validateConfig } from "../../gateway/config/load.js";
import { type App, createApp } from "../commands/serve.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";

const root = join(import.meta.dirname, "../..");
const fixture = join(root, "conformance/mcp/fixture-modern.mjs");
const policyData = JSON.parse(readFileSync(join(root, "conformance/policy/allow-all.data.json"), "utf8"));
const KEY = "cross-era-key-0042";

let dir: string;
let runtime: Runtime;
let gw: App;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-cross-era-"));
  process.env.PORTCULLIS_CROSS_ERA_KEY = KEY;
  const config = validateConfig({
    auth: { apiKeys: [{ id: "dana", key: "env:PORTCULLIS_CROSS_ERA_KEY", roles: ["user"] }] },
    mcpServers: {
      modern: { command: process.execPath, args: [fixture, "--stdio"], protocol: "2026-07-28" },
      legacy: { command: process.execPath, args: [fixture, "--stdio"] },
    },
    audit: { dir: "audit" },
  });
  runtime = createRuntime(config, dir, await createServices(config, dir, { policyData }));
  gw = createApp({ runtime });
});

afterAll(async () => {
  await gw?.mcp.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

const fetchGateway = (url: string | URL, init?: RequestInit) =>
  Promise.resolve(gw.app.fetch(new Request(url, init)));

/** A 2025-era SDK client that answers elicitation, sampling and roots requests. */
async function legacyClient(asked: string[] = []) {
  const client = new Client(
    { name: "legacy-client", version: "1.0.0" },
    { capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} } },
  );
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(`elicit:${req.params.message}`);
    return { action: "accept", content: { name: "Ada", color: "blue", context: "tests" } };
  });
  client.setRequestHandler(CreateMessageRequestSchema, async () => {
    asked.push("sample");
    return { role: "assistant", content: { type: "text", text: "Good day!" }, model: "test-model" };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => {
    asked.push("roots");
    return { roots: [{ uri: "file:///projects/demo", name: "project" }] };
  });
  const transport = new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
    fetch: fetchGateway,
    requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
  });
  await client.connect(transport as Transport);
  return client;
}

/** A 2026-era client pinned to 2026-07-28 that fulfils input-required rounds itself. */
async function modernClient(asked: string[]) {
  const client = new ModernClient(
    { name: "modern-client", version: "1.0.0" },
    {
      capabilities: { elicitation: { form: {} }, sampling: {}, roots: {} },
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    },
  );
  client.setRequestHandler("elicitation/create", async (req) => {
    asked.push(`elicit:${(req.params as { message: string }).message}`);
    return { action: "accept", content: { name: "Ada", color: "blue" } } as never;
  });
  const transport = new ModernTransport(new URL("http://localhost/mcp"), {
    fetch: fetchGateway,
    requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
  });
  await client.connect(transport);
  return client;
}

/** The audit records of one tool, by kind (waits briefly for the outcome record). */
async function auditOf(tool: string): Promise<{ decision: number; outcome: number }> {
  const count = () => {
    const n = { decision: 0, outcome: 0 };
    const audit = join(dir, "audit");
    for (const f of readdirSync(audit).filter((x) => x.endsWith(".jsonl")))
      for (const line of readFileSync(join(audit, f), "utf8").split("\n")) {
        if (!line.trim()) continue;
        const r = JSON.parse(line) as { kind: string; target?: { name?: string } };
        if (r.target?.name !== tool) continue;
        if (r.kind === "decision") n.decision++;
        if (r.kind === "outcome") n.outcome++;
      }
    return n;
  };
  for (let i = 0; i < 40; i++) {
    const n = count();
    if (n.outcome > 0) return n;
    await new Promise((r) => setTimeout(r, 50));
  }
  return count();
}

const text = (r: object) => JSON.stringify((r as { content?: unknown }).content);

describe("a 2026 upstream behind the gateway", () => {
  it("asks a 2025 client for every input of an input-required round, as requests", async () => {
    const asked: string[] = [];
    const client = await legacyClient(asked);
    const result = await client.callTool({ name: "modern__test_input_required_result_multiple_inputs" });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toContain("name=Ada; greeting=Good day!; roots=1");
    expect(asked.sort()).toEqual(["elicit:What is your name?", "roots", "sample"]);
    await client.close();
    expect(await auditOf("modern__test_input_required_result_multiple_inputs")).toEqual({
      decision: 1,
      outcome: 1,
    });
  });

  it("relays each round to a 2026 client with the upstream's keys; one decided call", async () => {
    const asked: string[] = [];
    const client = await modernClient(asked);
    const result = await client.callTool({ name: "modern__test_input_required_result_multi_round" });
    expect(text(result)).toContain("Ada likes blue");
    expect(asked).toEqual([
      "elicit:Step 1: What is your name?",
      "elicit:Step 2: What is your favorite color?",
    ]);
    expect(await auditOf("modern__test_input_required_result_multi_round")).toEqual({
      decision: 1,
      outcome: 1,
    });
    await client.close();
  });

  it("refuses a retry whose requestState was altered", async () => {
    const post = (body: object) =>
      gw.app.fetch(
        new Request("http://localhost/mcp", {
          method: "POST",
          headers: {
            Authorization: `Bearer ${KEY}`,
            "Content-Type": "application/json",
            Accept: "application/json, text/event-stream",
            "MCP-Protocol-Version": "2026-07-28",
            "Mcp-Method": "tools/call",
            "Mcp-Name": "modern__test_input_required_result_elicitation",
          },
          body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: body }),
        }),
      );
    const meta = {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientCapabilities": { elicitation: {} },
    };
    const name = "modern__test_input_required_result_elicitation";
    const first = (await (await post({ name, arguments: {}, _meta: meta })).json()) as {
      result: { resultType: string; inputRequests: object; requestState: string };
    };
    expect(first.result.resultType).toBe("input_required");
    expect(Object.keys(first.result.inputRequests)).toEqual(["user_name"]);
    const tampered = await post({
      name,
      arguments: {},
      _meta: meta,
      inputResponses: { user_name: { action: "accept", content: { name: "Eve" } } },
      requestState: `${first.result.requestState}x`,
    });
    const body = (await tampered.json()) as { error?: { code: number } };
    expect(body.error?.code).toBe(-32602);
  });

  it("honours logging/setLevel end to end for a 2025 and a 2026 upstream", async () => {
    const client = await legacyClient();
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(String(n.params.data));
    });
    for (const upstream of ["legacy", "modern"]) {
      await client.setLoggingLevel("error");
      await client.callTool({ name: `${upstream}__test_logging_tool` });
      expect(logs, `${upstream} at level error`).toEqual([]);
      await client.setLoggingLevel("info");
      await client.callTool({ name: `${upstream}__test_logging_tool` });
      expect(logs, `${upstream} at level info`).toEqual([
        "test_logging_tool: started",
        "test_logging_tool: finished",
      ]);
      logs.length = 0;
    }
    await client.close();
  });

  it("tells a connected 2025 client when either upstream's tool list changes", async () => {
    const client = await legacyClient();
    await client.listTools();
    for (const upstream of ["modern", "legacy"]) {
      const changed = new Promise<void>((resolve) =>
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()),
      );
      await client.callTool({ name: `${upstream}__test_trigger_tool_change` });
      await Promise.race([
        changed,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`${upstream}: no list_changed`)), 5000)),
      ]);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain(`${upstream}__test_added_tool_1`);
    }
    await client.close();
  });

  it("kept a verifiable audit chain", async () => {
    expect((await verifyAudit(join(dir, "audit"))).ok).toBe(true);
  });
});
