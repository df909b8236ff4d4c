/**
 * MCP convergence: an upstream MCP server (the conformance fixture over stdio) asks for
 * `sampling/createMessage` while serving a tool call that came in over REST — a client that
 * cannot sample — and the model router answers it through a fake provider, as the principal
 * `upstream:<server>` the policy decides on. Without a model the policy allows for that role the
 * upstream gets a refusal instead. The same for a 2026-07-28 upstream (fixture-modern.mjs) whose
 * tool answers with an input-required round carrying a sampling request.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyData } from "../../conformance/policy/settings.js";
import {
  echoScript,
  type FakeProvider,
  startFakeProvider,
} from "../../conformance/providers/fake-provider.js";
import { listSegments } from "../../gateway/audit/index.js";
import { createSamplingBridge } from "../../gateway/models/sampling.js";
import { startTestGateway, type TestGateway } from "./test-gateway.js";

const KEY = "models-sampling-key-0123456789";
process.env.PC_M_SAMPLING = KEY;
const FIXTURE = resolve(import.meta.dirname, "../../conformance/mcp/fixture-server.mjs");
const MODERN = resolve(import.meta.dirname, "../../conformance/mcp/fixture-modern.mjs");

let fake: FakeProvider;
const gateways: TestGateway[] = [];

const models = () => ({
  providers: [
    { v: 1, id: "local", kind: "openai_compatible", base_url: fake.url, models: ["m"], local: true },
  ],
  routes: [
    {
      v: 1,
      id: "sampler",
      match: { models: ["sampler"] },
      targets: [{ provider: "local", model: "m" }],
      strategy: "single",
    },
  ],
  samplingModel: "sampler",
});

async function gateway(upstreamModels: string[], modern = false): Promise<TestGateway> {
  const gw = await startTestGateway({
    apiKeys: [{ id: "dev", key: "env:PC_M_SAMPLING" }],
    models: models(),
    mcpServers: {
      fx: modern
        ? { command: process.execPath, args: [MODERN, "--stdio"], protocol: "2026-07-28" }
        : { command: process.execPath, args: [FIXTURE, "--stdio"] },
    },
    policyData: policyData(
      [{ id: "users-call-tools", effect: "allow", roles: ["user"], actions: ["tools/call"] }],
      {
        models: { allowed: [], roles: { upstream: upstreamModels }, local_only_classes: ["secret"] },
      },
    ),
  });
  gateways.push(gw);
  return gw;
}

async function callSamplingTool(gw: TestGateway, prompt: string, tool = "test_sampling"): Promise<string> {
  const r = await fetch(`${gw.base}/v1/tools/fx__${tool}/call`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ arguments: { prompt } }),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await r.json()) as { content?: { text?: string }[]; detail?: string };
  return body.content?.[0]?.text ?? body.detail ?? JSON.stringify(body);
}

beforeAll(async () => {
  fake = await startFakeProvider({ format: "openai_chat", script: echoScript });
});

afterAll(async () => {
  for (const g of gateways) await g.close();
  await fake?.close();
});

describe("sampling bridge", () => {
  it("serves an upstream's sampling request through the router when the policy allows", async () => {
    const gw = await gateway(["m"]);
    expect(await callSamplingTool(gw, "what is 2+2")).toBe("LLM response: echo: what is 2+2");
    expect(fake.requests.at(-1)!.body!.model).toBe("m");
  }, 30_000);

  it("refuses when the policy allows the upstream no model; nothing reaches the provider", async () => {
    const before = fake.requests.length;
    const gw = await gateway([]);
    expect(await callSamplingTool(gw, "nope")).toMatch(/MODEL_NOT_ALLOWED/);
    expect(fake.requests.length).toBe(before);
  }, 30_000);

  it("serves a 2026 upstream's input-required sampling round through the router", async () => {
    const gw = await gateway(["m"], true);
    const before = fake.requests.length;
    expect(await callSamplingTool(gw, "", "test_input_required_result_sampling")).toBe(
      "echo: What is the capital of France?",
    );
    expect(fake.requests.length).toBe(before + 1);
    // The upstream's model call is audited under its own principal (read from the log's segments).
    await gw.services.auditLog.flush();
    const dir = gw.services.auditLog.dir;
    const records = listSegments(dir)
      .flatMap((seg) => readFileSync(seg.path, "utf8").split("\n").filter(Boolean))
      .map(
        (line) => JSON.parse(line) as { kind: string; principal: { id: string }; target: { kind: string } },
      );
    const upstream = records.filter((x) => x.principal.id === "upstream:fx" && x.target.kind === "model");
    expect(upstream.map((x) => x.kind)).toEqual(["decision", "outcome"]);
  }, 30_000);

  it("refuses a 2026 upstream's sampling round when the policy allows the upstream no model", async () => {
    const before = fake.requests.length;
    const gw = await gateway([], true);
    expect(await callSamplingTool(gw, "", "test_input_required_result_sampling")).toMatch(
      /MODEL_NOT_ALLOWED/,
    );
    expect(fake.requests.length).toBe(before);
  }, 30_000);

  it("refuses content it cannot carry and requests no route serves, with MCP errors", async () => {
    const gw = gateways[0]!;
    const bridge = createSamplingBridge(gw.services.models.gateway, { serves: () => false });
    await expect(
      bridge("fx", { messages: [{ role: "user", content: { type: "text", text: "x" } }], maxTokens: 5 }),
    ).rejects.toThrow(/no model route serves/);
    const withDefault = createSamplingBridge(gw.services.models.gateway, {
      serves: () => false,
      defaultModel: "sampler",
    });
    await expect(
      withDefault("fx", {
        messages: [{ role: "user", content: { type: "audio", data: "AA==", mimeType: "audio/wav" } }],
        maxTokens: 5,
      }),
    ).rejects.toThrow(/audio content/);
  });
});
