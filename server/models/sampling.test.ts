/**
 * MCP convergence: an upstream MCP server (the conformance fixture over stdio) asks for
 * `sampling/createMessage` while serving a tool call that came in over REST — a client that
 * cannot sample — and the model router answers it through a fake provider, as the principal
 * `upstream:<server>` the policy decides on. Without a model the policy allows for that role the
 * upstream gets a refusal instead.
 */
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyData } from "../../conformance/policy/settings.js";
import {
  echoScript,
  type FakeProvider,
  startFakeProvider,
} from "../../conformance/providers/fake-provider.js";
import { createSamplingBridge } from "../../gateway/models/sampling.js";
import { startTestGateway, type TestGateway } from "./test-gateway.js";

const KEY = "models-sampling-key-0123456789";
process.env.PC_M_SAMPLING = KEY;
const FIXTURE = resolve(import.meta.dirname, "../../conformance/mcp/fixture-server.mjs");

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

async function gateway(upstreamModels: string[]): Promise<TestGateway> {
  const gw = await startTestGateway({
    apiKeys: [{ id: "dev", key: "env:PC_M_SAMPLING" }],
    models: models(),
    mcpServers: { fx: { command: process.execPath, args: [FIXTURE, "--stdio"] } },
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

async function callSamplingTool(gw: TestGateway, prompt: string): Promise<string> {
  const r = await fetch(`${gw.base}/v1/tools/fx__test_sampling/call`, {
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
