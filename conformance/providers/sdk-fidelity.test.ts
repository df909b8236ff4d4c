/**
 * Fidelity against the official clients. First, the `openai` and `@anthropic-ai/sdk` npm clients
 * talk straight to the fakes (so the fakes speak the formats the vendors' own parsers accept).
 * Then they talk to a minimal translating server built only from the codecs and the provider
 * adapters — every client format against every provider format — so the codecs' encoders are
 * checked by the same parsers, streams and parallel tool calls included.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codecFor } from "../../adapters/models/codecs/index.js";
import { modelErrorBody } from "../../adapters/models/errors.js";
import { createProviderAdapter } from "../../adapters/models/provider.js";
import type { ProviderAdapter, WireFormat } from "../../adapters/models/types.js";
import type { ProviderConfig } from "../../contracts/index.js";
import { type FakeFormat, type FakeProvider, type FakeScript, startFakeProvider } from "./fake-provider.js";

const FORMATS: FakeFormat[] = ["openai_chat", "openai_responses", "anthropic_messages"];
const PATH_FORMAT: Record<string, WireFormat> = {
  "/v1/chat/completions": "openai_chat",
  "/v1/responses": "openai_responses",
  "/v1/messages": "anthropic_messages",
};

const parallelCalls: FakeScript = {
  text: "Let me look.",
  toolCalls: [
    { id: "call_w", name: "weather", arguments: '{"city":"Zürich"}' },
    { id: "call_t", name: "time", arguments: '{"zone":"UTC"}' },
  ],
  stream: { interleave: true, pings: true, splitBytes: 5 },
};

const tools = {
  openai: [
    {
      type: "function" as const,
      function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
    },
    {
      type: "function" as const,
      function: { name: "time", parameters: { type: "object", properties: { zone: { type: "string" } } } },
    },
  ],
};

const fakes = {} as Record<FakeFormat, FakeProvider>;
beforeAll(async () => {
  for (const f of FORMATS) fakes[f] = await startFakeProvider({ format: f });
});
afterAll(async () => {
  for (const f of FORMATS) await fakes[f].close();
});

const openai = (baseURL: string) =>
  new OpenAI({ apiKey: "sk-test", baseURL, maxRetries: 0, timeout: 10_000 });
const anthropic = (baseURL: string) =>
  new Anthropic({ apiKey: "sk-ant-test", baseURL, maxRetries: 0, timeout: 10_000 });

describe("official clients against the fakes directly", () => {
  it("openai chat.completions: plain, and a stream with interleaved parallel tool calls", async () => {
    const client = openai(`${fakes.openai_chat.url}/v1`);
    fakes.openai_chat.setScript((_r, ctx) => ({ text: `echo: ${ctx.lastUserText}` }));
    const plain = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi ✓" }],
    });
    expect(plain.choices[0]?.message.content).toBe("echo: hi ✓");
    fakes.openai_chat.setScript(parallelCalls);
    const stream = client.chat.completions.stream({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      tools: tools.openai,
      stream_options: { include_usage: true },
    });
    const done = await stream.finalChatCompletion();
    expect(
      done.choices[0]?.message.tool_calls?.map((c) => (c.type === "function" ? c.function.arguments : "")),
    ).toEqual(['{"city":"Zürich"}', '{"zone":"UTC"}']);
    expect(done.choices[0]?.finish_reason).toBe("tool_calls");
    expect(done.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("openai responses: a stream with parallel function calls", async () => {
    fakes.openai_responses.setScript(parallelCalls);
    const stream = openai(`${fakes.openai_responses.url}/v1`).responses.stream({ model: "m", input: "x" });
    const done = await stream.finalResponse();
    expect(done.output_text).toBe("Let me look.");
    expect(
      done.output
        .filter((o) => o.type === "function_call")
        .map((o) => (o.type === "function_call" ? o.arguments : "")),
    ).toEqual(['{"city":"Zürich"}', '{"zone":"UTC"}']);
  });

  it("anthropic messages: a stream with pings and tool_use blocks, and an error event after 200", async () => {
    const client = anthropic(fakes.anthropic_messages.url);
    fakes.anthropic_messages.setScript(parallelCalls);
    const message = await client.messages
      .stream({ model: "m", max_tokens: 50, messages: [{ role: "user", content: "x" }] })
      .finalMessage();
    expect(message.stop_reason).toBe("tool_use");
    expect(
      message.content
        .filter((b) => b.type === "tool_use")
        .map((b) => (b.type === "tool_use" ? b.input : null)),
    ).toEqual([{ city: "Zürich" }, { zone: "UTC" }]);
    fakes.anthropic_messages.setScript({ text: "abcdefgh", stream: { errorAfter: 3 } });
    await expect(
      client.messages
        .stream({ model: "m", max_tokens: 50, messages: [{ role: "user", content: "x" }] })
        .finalMessage(),
    ).rejects.toThrow(/overloaded/);
  });
});

/** A translating server made of nothing but the codecs and one provider adapter. */
async function startTranslator(adapter: ProviderAdapter): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const codec = codecFor(PATH_FORMAT[(req.url ?? "").split("?")[0] ?? ""] ?? "openai_chat");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = { provider: adapter.target.provider, model: "fake-model" };
    const signal = new AbortController().signal;
    try {
      const request = codec.decodeRequest(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      if (!request.stream) {
        const answer = await adapter.complete(request, target, { signal });
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify(codec.encodeResponse(answer)));
        return;
      }
      const encoder = codec.streamEncoder(request);
      const events = adapter.stream(request, target, { signal })[Symbol.asyncIterator]();
      const first = await events.next();
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (let step = first; !step.done; step = await events.next())
        res.write(encoder.push(step.value).join(""));
      res.end();
    } catch (e) {
      const body = modelErrorBody(e);
      if (res.headersSent) res.destroy();
      else
        res
          .writeHead(body.status, { "content-type": "application/json" })
          .end(JSON.stringify(codec.encodeError(body)));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe.each(FORMATS)("official clients through the codecs to a %s provider", (providerFormat) => {
  let translator: { url: string; server: Server };
  let adapter: ProviderAdapter;
  beforeAll(async () => {
    const config: ProviderConfig = {
      v: 1,
      id: "fake",
      kind: providerFormat === "anthropic_messages" ? "anthropic" : "openai",
      ...(providerFormat === "openai_responses" ? { api: "responses" as const } : {}),
      base_url: fakes[providerFormat].url,
      models: ["fake-model"],
      local: true,
    };
    adapter = createProviderAdapter(config);
    translator = await startTranslator(adapter);
  });
  afterAll(async () => {
    await new Promise<void>((r) => translator.server.close(() => r()));
    await adapter.close();
  });

  it("openai chat client: plain echo and a streamed parallel tool-call round", async () => {
    fakes[providerFormat].setScript((_r, ctx) => ({ text: `echo: ${ctx.lastUserText}` }));
    const client = openai(`${translator.url}/v1`);
    const plain = await client.chat.completions.create({
      model: "alias",
      messages: [
        { role: "system", content: "terse" },
        { role: "user", content: "grüße 👋" },
      ],
    });
    expect(plain.choices[0]?.message.content).toBe("echo: grüße 👋");
    fakes[providerFormat].setScript(parallelCalls);
    const done = await client.chat.completions
      .stream({ model: "alias", messages: [{ role: "user", content: "x" }], tools: tools.openai })
      .finalChatCompletion();
    expect(done.choices[0]?.message.content).toBe("Let me look.");
    expect(
      done.choices[0]?.message.tool_calls?.map((c) =>
        c.type === "function" ? [c.id, c.function.arguments] : [],
      ),
    ).toEqual([
      ["call_w", '{"city":"Zürich"}'],
      ["call_t", '{"zone":"UTC"}'],
    ]);
  });

  it("openai responses client: plain echo and a streamed parallel tool-call round", async () => {
    fakes[providerFormat].setScript((_r, ctx) => ({ text: `echo: ${ctx.lastUserText}` }));
    const client = openai(`${translator.url}/v1`);
    const plain = await client.responses.create({ model: "alias", instructions: "terse", input: "grüße 👋" });
    expect(plain.output_text).toBe("echo: grüße 👋");
    fakes[providerFormat].setScript(parallelCalls);
    const done = await client.responses.stream({ model: "alias", input: "x" }).finalResponse();
    expect(done.output_text).toBe("Let me look.");
    expect(
      done.output.flatMap((o) => (o.type === "function_call" ? [[o.call_id, o.arguments]] : [])),
    ).toEqual([
      ["call_w", '{"city":"Zürich"}'],
      ["call_t", '{"zone":"UTC"}'],
    ]);
  });

  it("anthropic client: plain echo and a streamed parallel tool-use round", async () => {
    fakes[providerFormat].setScript((_r, ctx) => ({ text: `echo: ${ctx.lastUserText}` }));
    const client = anthropic(translator.url);
    const plain = await client.messages.create({
      model: "alias",
      max_tokens: 50,
      system: "terse",
      messages: [{ role: "user", content: "grüße 👋" }],
    });
    expect(plain.content).toEqual([{ type: "text", text: "echo: grüße 👋" }]);
    fakes[providerFormat].setScript(parallelCalls);
    const done = await client.messages
      .stream({ model: "alias", max_tokens: 50, messages: [{ role: "user", content: "x" }] })
      .finalMessage();
    expect(done.stop_reason).toBe("tool_use");
    expect(done.content.flatMap((b) => (b.type === "tool_use" ? [[b.id, b.input]] : []))).toEqual([
      ["call_w", { city: "Zürich" }],
      ["call_t", { zone: "UTC" }],
    ]);
  });
  it("errors reach each client in its own format: a refused feature (400) and a provider 429", async () => {
    fakes[providerFormat].setScript((_r, ctx) => ({ text: `echo: ${ctx.lastUserText}` }));
    const chat = openai(`${translator.url}/v1`);
    const claude = anthropic(translator.url);
    if (providerFormat !== "openai_chat") {
      const refused = await chat.chat.completions
        .create({
          model: "alias",
          messages: [{ role: "user", content: "x" }],
          response_format: { type: "json_object" },
        })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect((refused as Error).message).toContain("response_format");
    }
    if (providerFormat !== "anthropic_messages") {
      const refused = await claude.messages
        .create({ model: "alias", max_tokens: 50, top_k: 5, messages: [{ role: "user", content: "x" }] })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
      expect((refused as Error).message).toContain("top_k");
    }
    fakes[providerFormat].setScript({
      kind: "http_error",
      status: 429,
      message: "slow down",
      retryAfter: "1",
    });
    await expect(
      chat.chat.completions.create({ model: "alias", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(
      claude.messages.create({ model: "alias", max_tokens: 50, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    await expect(chat.responses.create({ model: "alias", input: "x" })).rejects.toThrow(/slow down/);
  });
});
