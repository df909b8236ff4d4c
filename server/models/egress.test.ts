/**
 * Egress control over a real socket with the official OpenAI client: with the redaction policy's
 * `block` action a request carrying a secret is refused for a cloud provider before anything is
 * sent (the fake records nothing), a route with a local fallback serves it there (the class is
 * allowed to that provider and the default policy lets secrets go to local providers only), and
 * the same route without a secret stays on the cloud provider. Also: an OpenAI Responses client
 * served by a Chat Completions provider.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  echoScript,
  type FakeProvider,
  startFakeProvider,
} from "../../conformance/providers/fake-provider.js";
import { startTestGateway, type TestGateway } from "./test-gateway.js";

const KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD";
const CLIENT_KEY = "models-egress-key-0123456789";
process.env.PC_M_EGRESS = CLIENT_KEY;

let cloud: FakeProvider;
let local: FakeProvider;
let gw: TestGateway;
let openai: OpenAI;

beforeAll(async () => {
  [cloud, local] = await Promise.all([
    startFakeProvider({ format: "openai_chat", script: echoScript }),
    startFakeProvider({ format: "openai_chat", script: echoScript }),
  ]);
  const p = (id: string, fake: FakeProvider, isLocal: boolean) => ({
    v: 1,
    id,
    kind: "openai_compatible",
    base_url: fake.url,
    models: ["m"],
    local: isLocal,
  });
  gw = await startTestGateway({
    apiKeys: [{ id: "dev", key: "env:PC_M_EGRESS" }],
    models: {
      providers: [p("cloud", cloud, false), p("local", local, true)],
      routes: [
        {
          v: 1,
          id: "cloud-only",
          match: { models: ["cloud-only"] },
          targets: [{ provider: "cloud", model: "m" }],
          strategy: "single",
        },
        {
          v: 1,
          id: "prefer-cloud",
          match: { models: ["prefer-cloud"] },
          targets: [{ provider: "cloud", model: "m" }],
          fallbacks: [{ provider: "local", model: "m" }],
          strategy: "fallback",
        },
      ],
      redaction: {
        v: 1,
        id: "strict",
        detectors: ["secret"],
        action: "block",
        allowed_providers: { secret: ["local"] },
      },
    },
  });
  openai = new OpenAI({ baseURL: `${gw.base}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 10_000 });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([cloud?.close(), local?.close()]);
});

describe("egress control", () => {
  it("a blocked request never reaches the provider and says why", async () => {
    const e = await openai.chat.completions
      .create({ model: "cloud-only", messages: [{ role: "user", content: `deploy with ${KEY}` }] })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((e as Error).message).toMatch(/SENSITIVE_DATA_BLOCKED/);
    expect(cloud.requests).toHaveLength(0);
  });

  it("the same secret goes to the local fallback only, unredacted as the policy allows", async () => {
    const r = await openai.chat.completions.create({
      model: "prefer-cloud",
      stream: true,
      messages: [{ role: "user", content: `deploy with ${KEY}` }],
    });
    let text = "";
    for await (const c of r) text += c.choices[0]?.delta?.content ?? "";
    expect(text).toBe(`echo: deploy with ${KEY}`);
    expect(cloud.requests).toHaveLength(0);
    expect(local.requests.at(-1)!.raw).toContain(KEY);
  });

  it("without a secret the cloud provider serves", async () => {
    const r = await openai.chat.completions.create({
      model: "prefer-cloud",
      messages: [{ role: "user", content: "nothing secret" }],
    });
    expect(r.choices[0]!.message.content).toBe("echo: nothing secret");
    expect(cloud.requests).toHaveLength(1);
  });

  it("an OpenAI Responses client is served by a Chat Completions provider", async () => {
    const r = await openai.responses.create({ model: "cloud-only", input: "via responses" });
    expect(r.output_text).toBe("echo: via responses");
    const s = await openai.responses.create({ model: "cloud-only", input: "streamed", stream: true });
    let text = "";
    for await (const ev of s) if (ev.type === "response.output_text.delta") text += ev.delta;
    expect(text).toBe("echo: streamed");
  });
});
