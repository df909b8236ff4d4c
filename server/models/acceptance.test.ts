/**
 * Acceptance of issue 6 with the official `openai` and `@anthropic-ai/sdk` clients pointed at a
 * listening gateway, served by fake providers that are real HTTP servers speaking each wire
 * format (conformance/providers). A secret in the prompt is replaced by a reversible placeholder
 * before egress — the fakes assert on what they received — and restored in the answer, streamed
 * or not; the clients' formats are translated both ways (OpenAI client → Anthropic provider and
 * the reverse), tool calls round-trip, fallback happens only before the first token, an error
 * after it is an error frame the client's SDK raises, breakers open / half-open / close, 429s are
 * retried after Retry-After, and a blocked request never reaches a provider.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  echoScript,
  type FakeProvider,
  failFirst,
  startFakeProvider,
} from "../../conformance/providers/fake-provider.js";
import { startTestGateway, type TestGateway } from "./test-gateway.js";

const KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD";
const CLIENT_KEY = "models-acceptance-key-0123456789";
process.env.PC_M_CLIENT = CLIENT_KEY;
process.env.PC_M_OPENAI = "upstream-openai-key";
process.env.PC_M_ANTHROPIC = "upstream-anthropic-key";

let openaiFake: FakeProvider;
let anthropicFake: FakeProvider;
let backupFake: FakeProvider;
let fragileFake: FakeProvider;
let gw: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;

const provider = (id: string, kind: string, fake: FakeProvider, model: string, extra: object = {}) => ({
  v: 1,
  id,
  kind,
  base_url: fake.url,
  models: [model],
  local: false,
  ...extra,
});
const single = (id: string, alias: string, p: string, model: string) => ({
  v: 1,
  id,
  match: { models: [alias] },
  targets: [{ provider: p, model }],
  strategy: "single",
});

beforeAll(async () => {
  [openaiFake, anthropicFake, backupFake, fragileFake] = await Promise.all([
    startFakeProvider({ format: "openai_chat" }),
    startFakeProvider({ format: "anthropic_messages" }),
    startFakeProvider({ format: "openai_chat" }),
    startFakeProvider({ format: "openai_chat" }),
  ]);
  gw = await startTestGateway({
    apiKeys: [{ id: "dev", key: "env:PC_M_CLIENT" }],
    models: {
      providers: [
        provider("openai", "openai", openaiFake, "gpt-test", {
          credential: "env:PC_M_OPENAI",
          retry: { max_attempts: 2, backoff_ms: 10 },
        }),
        provider("anthropic", "anthropic", anthropicFake, "claude-test", {
          credential: "env:PC_M_ANTHROPIC",
        }),
        provider("backup", "openai_compatible", backupFake, "gpt-backup"),
        provider("fragile", "openai_compatible", fragileFake, "fragile-model"),
      ],
      routes: [
        single("to-claude", "claude-via", "anthropic", "claude-test"),
        single("to-gpt", "gpt-via", "openai", "gpt-test"),
        single("fragile", "fragile", "fragile", "fragile-model"),
        {
          v: 1,
          id: "failover",
          match: { models: ["failover"] },
          targets: [{ provider: "openai", model: "gpt-test" }],
          fallbacks: [{ provider: "backup", model: "gpt-backup" }],
          strategy: "fallback",
        },
      ],
      redaction: { v: 1, id: "egress", detectors: ["secret"], action: "reversible", allowed_providers: {} },
      breaker: { failures: 2, cooldownMs: 300 },
      maxRetryAfterMs: 3000,
    },
  });
  openai = new OpenAI({ baseURL: `${gw.base}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 10_000 });
  anthropic = new Anthropic({ baseURL: gw.base, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 10_000 });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([openaiFake, anthropicFake, backupFake, fragileFake].map((f) => f?.close()));
});

const received = (f: FakeProvider) => f.requests.at(-1)!.raw;

describe("translation with redaction before egress", () => {
  it("OpenAI client → Anthropic provider: the secret leaves as a placeholder and comes back", async () => {
    anthropicFake.setScript(echoScript);
    const r = await openai.chat.completions.create({
      model: "claude-via",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: `my key is ${KEY}` },
      ],
    });
    expect(received(anthropicFake)).not.toContain(KEY);
    expect(anthropicFake.requests.at(-1)!.body!.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "my key is [SECRET_1]" }] },
    ]);
    expect(anthropicFake.requests.at(-1)!.headers["x-api-key"]).toBe("upstream-anthropic-key");
    expect(r.choices[0]!.message.content).toBe(`echo: my key is ${KEY}`);
    expect(r.usage?.prompt_tokens).toBeGreaterThanOrEqual(0);
  });

  it("OpenAI client streams from the Anthropic provider; placeholders split across deltas are restored", async () => {
    anthropicFake.setScript((_r, ctx) => ({
      text: `echo: ${ctx.lastUserText}`,
      stream: { splitBytes: 5, textDeltaChars: 2, pings: true },
    }));
    const stream = await openai.chat.completions.create({
      model: "claude-via",
      stream: true,
      messages: [{ role: "user", content: `again ${KEY} please` }],
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(received(anthropicFake)).not.toContain(KEY);
    expect(text).toBe(`echo: again ${KEY} please`);
  });

  it("Anthropic client (x-api-key) → OpenAI provider, plain and streamed", async () => {
    openaiFake.setScript(echoScript);
    const r = await anthropic.messages.create({
      model: "gpt-via",
      max_tokens: 100,
      system: `deploy key ${KEY}`,
      messages: [{ role: "user", content: `use ${KEY}` }],
    });
    expect(received(openaiFake)).not.toContain(KEY);
    expect(openaiFake.requests.at(-1)!.headers.authorization).toBe("Bearer upstream-openai-key");
    expect(r.content[0]).toMatchObject({ type: "text", text: `echo: use ${KEY}` });
    const s = anthropic.messages.stream({
      model: "gpt-via",
      max_tokens: 100,
      messages: [{ role: "user", content: `stream ${KEY}` }],
    });
    const final = await s.finalText();
    expect(received(openaiFake)).not.toContain(KEY);
    expect(final).toBe(`echo: stream ${KEY}`);
  });

  it("tool calls round-trip both ways with the secret restored in the arguments", async () => {
    openaiFake.setScript((req) => {
      const msgs = req.body!.messages as { role: string }[];
      if (msgs.at(-1)!.role === "tool") return { text: "done" };
      return { toolCalls: [{ id: "call_1", name: "lookup", arguments: '{"key":"[SECRET_1]"}' }] };
    });
    const tools = [
      {
        name: "lookup",
        description: "looks a key up",
        input_schema: { type: "object" as const, properties: { key: { type: "string" } } },
      },
    ];
    const first = await anthropic.messages.create({
      model: "gpt-via",
      max_tokens: 100,
      tools,
      messages: [{ role: "user", content: `look up ${KEY}` }],
    });
    const call = first.content.find((b) => b.type === "tool_use");
    expect(first.stop_reason).toBe("tool_use");
    expect(call).toMatchObject({ name: "lookup", input: { key: KEY } });
    const second = await anthropic.messages.create({
      model: "gpt-via",
      max_tokens: 100,
      tools,
      messages: [
        { role: "user", content: `look up ${KEY}` },
        { role: "assistant", content: first.content },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: (call as { id: string }).id, content: `found ${KEY}` },
          ],
        },
      ],
    });
    expect(received(openaiFake)).not.toContain(KEY);
    expect(received(openaiFake)).toContain("found [SECRET_1]");
    expect(second.content[0]).toMatchObject({ type: "text", text: "done" });

    anthropicFake.setScript({ toolCalls: [{ name: "lookup", arguments: '{"key":"[SECRET_1]"}' }] });
    const viaOpenAI = await openai.chat.completions.create({
      model: "claude-via",
      tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
      messages: [{ role: "user", content: `look up ${KEY}` }],
    });
    const fn = viaOpenAI.choices[0]!.message.tool_calls![0]! as { function: { arguments: string } };
    expect(JSON.parse(fn.function.arguments)).toEqual({ key: KEY });
    expect(viaOpenAI.choices[0]!.finish_reason).toBe("tool_calls");
  });
});

describe("routing behaviour seen by clients", () => {
  it("falls back before the first token (HTTP 500, then an error event after the 200)", async () => {
    openaiFake.setScript({ kind: "http_error", status: 500 });
    backupFake.setScript(echoScript);
    const r = await openai.chat.completions.create({
      model: "failover",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(r.choices[0]!.message.content).toBe("echo: hi");
    openaiFake.setScript({ text: "never seen", stream: { errorAfter: 1 } });
    const s = await openai.chat.completions.create({
      model: "failover",
      stream: true,
      messages: [{ role: "user", content: "stream" }],
    });
    let text = "";
    for await (const c of s) text += c.choices[0]?.delta?.content ?? "";
    expect(text).toBe("echo: stream");
  });

  it("after the first token an error is an in-stream error frame the SDK raises; no fallback", async () => {
    // The 500s above opened the openai target's breaker (2 failures): wait for its half-open probe.
    await new Promise((r) => setTimeout(r, 320));
    openaiFake.setScript({
      text: "partial answer that breaks",
      stream: { errorAfter: 4, textDeltaChars: 3 },
    });
    const before = backupFake.requests.length;
    const s = await openai.chat.completions.create({
      model: "failover",
      stream: true,
      messages: [{ role: "user", content: "x" }],
    });
    let text = "";
    const failure = await (async () => {
      for await (const c of s) text += c.choices[0]?.delta?.content ?? "";
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(text.length).toBeGreaterThan(0);
    expect(backupFake.requests.length).toBe(before);
  });

  it("a single-target breaker opens, fails fast, lets a probe through after the cool-down and closes", async () => {
    fragileFake.setScript({ kind: "http_error", status: 503 });
    const ask = () =>
      openai.chat.completions.create({ model: "fragile", messages: [{ role: "user", content: "?" }] });
    for (let i = 0; i < 2; i++) await expect(ask()).rejects.toMatchObject({ status: 502 });
    const seen = fragileFake.requests.length;
    await expect(ask()).rejects.toMatchObject({ status: 503 });
    expect(fragileFake.requests.length).toBe(seen);
    await new Promise((r) => setTimeout(r, 320));
    fragileFake.setScript(echoScript);
    expect((await ask()).choices[0]!.message.content).toBe("echo: ?");
    expect((await ask()).choices[0]!.message.content).toBe("echo: ?");
  });

  it("retries a 429 after its Retry-After", async () => {
    const n = openaiFake.requests.length;
    let firstAt = 0;
    openaiFake.setScript((req, ctx) => {
      if (ctx.n === n) firstAt = Date.now();
      const script = failFirst(n + 1, 429, echoScript, "1");
      return typeof script === "function" ? script(req, ctx) : script;
    });
    const r = await openai.chat.completions.create({
      model: "gpt-via",
      messages: [{ role: "user", content: "later" }],
    });
    expect(r.choices[0]!.message.content).toBe("echo: later");
    expect(openaiFake.requests.length).toBe(n + 2);
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(950);
  });

  it("lists the models the principal may use and reports the gateway's overhead", async () => {
    const list = await openai.models.list();
    expect(list.data.map((m) => m.id).sort()).toEqual(["claude-via", "failover", "fragile", "gpt-via"]);
    const raw = await fetch(`${gw.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-via", messages: [{ role: "user", content: "t" }] }),
    });
    expect(Number(raw.headers.get("x-portcullis-overhead-ms"))).toBeGreaterThanOrEqual(0);
    expect(raw.headers.get("server-timing")).toMatch(/^gateway;dur=/);
    const unknown = await fetch(`${gw.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "nope", messages: [{ role: "user", content: "t" }] }),
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/no route/);
    expect(unknown.headers.get("x-portcullis-overhead-ms")).not.toBeNull();
  });

  it("audits each model call: decision before sending, outcome with token usage", async () => {
    await gw.services.auditLog.flush();
    const r = await fetch(`${gw.base}/v1/audit?limit=500`, {
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
    });
    const body = (await r.json()) as {
      records: { kind: string; target: { kind: string }; outcome?: { usage?: unknown } }[];
    };
    const model = body.records.filter((x) => x.target.kind === "model");
    expect(model.some((x) => x.kind === "decision")).toBe(true);
    expect(model.some((x) => x.kind === "outcome" && x.outcome?.usage !== undefined)).toBe(true);
  });

  it("refuses unauthenticated callers with problem+json", async () => {
    const r = await fetch(`${gw.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": "wrong", "content-type": "application/json" },
      body: "{}",
    });
    expect(r.status).toBe(401);
    expect(r.headers.get("content-type")).toMatch(/problem\+json/);
  });
});
