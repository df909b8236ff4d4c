/**
 * The 2026-07-28 era through the gateway: a v2 SDK client pinned to 2026-07-28 (stateless,
 * `_meta` envelope, server/discover) in front of a stdio upstream — listing, calling, a denial, and
 * ask_user as an input-required result answered by the client's elicitation handler on retry.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyData as buildPolicyData } from "../../conformance/policy/settings.js";
import { validateConfig } from "../../gateway/config/load.js";
import { type App, createApp } from "../commands/serve.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";
import { ApprovalState } from "./modern.js";

const require = createRequire(import.meta.url);
const everything = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");
const KEY = "modern-key-0042";

const policyData = buildPolicyData(
  [
    { id: "no-sum", effect: "deny", names: ["everything__get-sum"], actions: ["tools/call"] },
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
let gw: App;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-modern-"));
  process.env.PORTCULLIS_MODERN_KEY = KEY;
  const config = validateConfig({
    auth: { apiKeys: [{ id: "carol", key: "env:PORTCULLIS_MODERN_KEY", roles: ["user"] }] },
    mcpServers: { everything: { command: process.execPath, args: [everything, "stdio"] } },
    audit: { dir: "audit" },
  });
  runtime = createRuntime(config, dir, await createServices(config, dir, { policyData }));
  gw = createApp({ runtime });
});

afterAll(async () => {
  await gw?.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function modernClient(
  answer?: (message: string) => { action: "accept" | "decline"; content?: object },
) {
  const client = new Client(
    { name: "modern", version: "1.0.0" },
    {
      capabilities: answer ? { elicitation: { form: {} } } : {},
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    },
  );
  if (answer)
    client.setRequestHandler("elicitation/create", async (req) => answer(req.params.message) as never);
  const transport = new StreamableHTTPClientTransport(new URL("http://localhost/mcp"), {
    fetch: (url, init) => Promise.resolve(gw.app.fetch(new Request(url, init))),
    requestInit: { headers: { Authorization: `Bearer ${KEY}` } },
  });
  await client.connect(transport);
  return client;
}

describe("2026-07-28 era through the gateway", () => {
  it("lists and calls upstream tools statelessly", async () => {
    const client = await modernClient();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("everything__echo");
    const echo = await client.callTool({ name: "everything__echo", arguments: { message: "2026" } });
    expect(echo.content).toEqual([{ type: "text", text: "Echo: 2026" }]);
    await client.close();
  });

  it("denies with isError and the reason codes", async () => {
    const client = await modernClient();
    const result = await client.callTool({ name: "everything__get-sum", arguments: { a: 1, b: 2 } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({
      decision: "deny",
      reasons: [{ code: "DENIED_BY_RULE" }],
    });
    await client.close();
  });

  it("asks through an input-required result and runs the call once approved", async () => {
    const asked: string[] = [];
    const client = await modernClient((message) => {
      asked.push(message);
      return { action: "accept", content: { approve: true } };
    });
    const result = await client.callTool({ name: "everything__get-tiny-image", arguments: {} });
    expect(asked).toHaveLength(1);
    expect(result.isError).toBeFalsy();
    expect((result.content as Array<{ type: string }>).some((c) => c.type === "image")).toBe(true);
    await client.close();
  });

  it("refuses when the person declines through the input-required flow", async () => {
    const client = await modernClient(() => ({ action: "decline" }));
    const result = await client.callTool({ name: "everything__get-tiny-image", arguments: { n: 2 } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.structuredContent)).toContain("APPROVAL_DENIED");
    await client.close();
  });
});

describe("cross-era relay", () => {
  it("relays a 2025 upstream's elicitation to a 2026 client as input-required rounds", async () => {
    const asked: string[] = [];
    const client = await modernClient((message) => {
      asked.push(message);
      return { action: "accept", content: { name: "Grace Hopper", check: true } };
    });
    const result = await client.callTool({ name: "everything__trigger-elicitation-request", arguments: {} });
    expect(asked).toHaveLength(1);
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result.content)).toContain("Grace Hopper");
    await client.close();
  });
});

describe("ApprovalState", () => {
  it("opens only its own, untampered state for the same tool", () => {
    const s = new ApprovalState();
    const sealed = s.seal({ kind: "approval", id: "approval-1" }, "everything__x");
    expect(s.open(sealed, "everything__x")).toEqual({ kind: "approval", id: "approval-1" });
    expect(s.open(sealed, "everything__y")).toBeUndefined();
    expect(s.open(`${sealed.slice(0, -2)}AA`, "everything__x")).toBeUndefined();
    expect(new ApprovalState().open(sealed, "everything__x")).toBeUndefined();
  });
});
