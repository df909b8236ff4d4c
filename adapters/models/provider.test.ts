/**
 * Each provider adapter against the fake provider of its wire format, over real sockets on
 * 127.0.0.1: answers, streams in split frames, parallel tool calls, HTTP errors with
 * Retry-After, errors after the 200, cut streams, every timeout, client aborts and keep-alive.
 */
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  type FakeFormat,
  type FakeProvider,
  failFirst,
  startFakeProvider,
} from "../../conformance/providers/fake-provider.js";
import type { ProviderConfig } from "../../contracts/index.js";
import { assembleStream } from "./assemble.js";
import { ProviderError } from "./errors.js";
import { createProviderAdapter, parseRetryAfter, providerEndpoint } from "./provider.js";
import type { ChatRequest, ChatStreamEvent, ProviderAdapter } from "./types.js";

const FORMATS: FakeFormat[] = ["openai_chat", "openai_responses", "anthropic_messages"];

let fake: FakeProvider | undefined;
let adapter: ProviderAdapter | undefined;
afterEach(async () => {
  await adapter?.close();
  await fake?.close();
  adapter = undefined;
  fake = undefined;
});

function providerConfig(
  format: FakeFormat,
  url: string,
  timeouts?: ProviderConfig["timeouts"],
): ProviderConfig {
  return {
    v: 1,
    id: `fake-${format}`,
    kind: format === "anthropic_messages" ? "anthropic" : "openai",
    ...(format === "openai_responses" ? { api: "responses" as const } : {}),
    // One format with the /v1 suffix, the others without: both spellings must work.
    base_url: format === "openai_chat" ? `${url}/v1/` : url,
    models: ["fake-model"],
    local: true,
    ...(timeouts ? { timeouts } : {}),
  };
}

async function setUp(
  format: FakeFormat,
  timeouts?: ProviderConfig["timeouts"],
): Promise<{ fake: FakeProvider; adapter: ProviderAdapter }> {
  fake = await startFakeProvider({ format });
  adapter = createProviderAdapter(providerConfig(format, fake.url, timeouts));
  return { fake, adapter };
}

const ask = (text: string, stream = false): ChatRequest => ({
  model: "alias",
  system: ["be brief"],
  messages: [{ role: "user", content: [{ type: "text", text }] }],
  max_tokens: 50,
  stream,
});

const target = (credential?: string) => ({
  provider: adapter?.target.provider as ProviderConfig,
  model: "fake-model",
  ...(credential ? { credential } : {}),
});
const signal = () => new AbortController().signal;

async function collect(iterable: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

describe.each(FORMATS)("%s adapter against its fake", (format) => {
  it("completes, sending the provider model, system prompt and credential the provider's way", async () => {
    const { fake, adapter } = await setUp(format);
    const answer = await adapter.complete(ask("héllo wörld"), target("sk-test"), { signal: signal() });
    expect(answer.content).toEqual([{ type: "text", text: "echo: héllo wörld" }]);
    expect(answer.stop_reason).toBe("end_turn");
    expect(answer.usage?.output_tokens).toBeGreaterThan(0);
    const seen = fake.requests[0];
    expect(seen?.body?.model).toBe("fake-model");
    expect(seen?.raw).toContain("be brief");
    if (format === "anthropic_messages") {
      expect(seen?.headers["x-api-key"]).toBe("sk-test");
      expect(seen?.headers["anthropic-version"]).toBe("2023-06-01");
      expect(seen?.headers.authorization).toBeUndefined();
    } else {
      expect(seen?.headers.authorization).toBe("Bearer sk-test");
    }
  });

  it("streams split frames with pings as they arrive, ending in done with usage", async () => {
    const { fake, adapter } = await setUp(format);
    fake.setScript({
      text: "snow ☃ and rockets 🚀🚀",
      stream: { splitBytes: 3, pings: true, usageChoices: "null" },
    });
    const events = await collect(adapter.stream(ask("x", true), target(), { signal: signal() }));
    const result = assembleStream(events).result();
    expect(result.content).toEqual([{ type: "text", text: "snow ☃ and rockets 🚀🚀" }]);
    expect(result.usage?.input_tokens).toBeGreaterThan(0);
    expect(events.at(-1)).toEqual({ type: "done" });
  });

  it("streams parallel tool calls with interleaved argument deltas", async () => {
    const { fake, adapter } = await setUp(format);
    fake.setScript({
      text: "calling",
      toolCalls: [
        { id: "call_a", name: "weather", arguments: '{"city":"Paris","unit":"C"}' },
        { id: "call_b", name: "clock", arguments: '{"zone":"Europe/Oslo"}' },
      ],
      stream: { interleave: true },
    });
    const result = assembleStream(
      await collect(adapter.stream(ask("x", true), target(), { signal: signal() })),
    ).result();
    expect(result.stop_reason).toBe("tool_use");
    expect(result.content).toEqual([
      { type: "text", text: "calling" },
      { type: "tool_call", id: "call_a", name: "weather", arguments: '{"city":"Paris","unit":"C"}' },
      { type: "tool_call", id: "call_b", name: "clock", arguments: '{"zone":"Europe/Oslo"}' },
    ]);
  });

  it("maps 429 with Retry-After, a 5xx burst and a 4xx to ProviderErrors, keeping the provider's message", async () => {
    const { fake, adapter } = await setUp(format);
    fake.setScript(failFirst(1, 429, undefined, "2"));
    const limited = await rejection(adapter.complete(ask("x"), target(), { signal: signal() }));
    expect(limited).toMatchObject({ kind: "rate_limited", status: 429, retryAfterMs: 2000, retriable: true });
    expect(limited.message).toContain("fake failure 1 of 1");

    fake.setScript(failFirst(Number.POSITIVE_INFINITY, 503));
    const burst = await rejection(collect(adapter.stream(ask("x", true), target(), { signal: signal() })));
    expect(burst).toMatchObject({ kind: "server_error", status: 503, retriable: true });

    fake.setScript({ kind: "http_error", status: 400, message: "max_tokens too large" });
    const bad = await rejection(adapter.complete(ask("x"), target(), { signal: signal() }));
    expect(bad).toMatchObject({ kind: "client_error", status: 400, retriable: false });
    expect(bad.message).toContain("max_tokens too large");
  });

  it("refuses a 200 answer that is not an event stream when a stream was asked for", async () => {
    const { fake, adapter } = await setUp(format);
    fake.setScript({ text: "plain", stream: { jsonInsteadOfStream: true } });
    const e = await rejection(collect(adapter.stream(ask("x", true), target(), { signal: signal() })));
    expect(e).toMatchObject({ kind: "protocol_error", retriable: false });
    expect(e.message).toContain("application/json");
  });

  it("rejects the first next() on an error event before the first token, and yields one after it", async () => {
    const { fake, adapter } = await setUp(format);
    fake.setScript({ text: "abcdefghijkl", stream: { errorAfter: 1 } });
    const early = await rejection(collect(adapter.stream(ask("x", true), target(), { signal: signal() })));
    expect(early.kind).toBe("server_error");

    fake.setScript({ text: "abcdefghijkl", stream: { errorAfter: 5 } });
    const events = await collect(adapter.stream(ask("x", true), target(), { signal: signal() }));
    expect(events.some((e) => e.type === "text_delta")).toBe(true);
    expect(events.at(-1)).toMatchObject({
      type: "error",
      error: { message: expect.stringContaining("overloaded") },
    });
  });

  it("turns a stream cut mid-way (socket destroyed or body ended) into stream_cut, never success", async () => {
    const { fake, adapter } = await setUp(format);
    for (const cutMode of ["destroy", "end"] as const) {
      fake.setScript({ text: "abcdefghijkl", stream: { cutAfter: 5, cutMode } });
      const events = await collect(adapter.stream(ask("x", true), target(), { signal: signal() }));
      expect(events.some((e) => e.type === "done")).toBe(false);
      expect(events.at(-1), cutMode).toMatchObject({ type: "error", error: { code: "stream_cut" } });

      fake.setScript({ text: "abcdefghijkl", stream: { cutAfter: 1, cutMode } });
      const early = await rejection(collect(adapter.stream(ask("x", true), target(), { signal: signal() })));
      expect(early.kind).toBe("stream_cut");
    }
  });

  it("times out a slow first token, a stalled stream and a whole request", async () => {
    const { fake, adapter } = await setUp(format, { first_token_ms: 150, idle_ms: 150, request_ms: 1500 });
    fake.setScript({ text: "late", stream: { firstEventDelayMs: 600 } });
    expect(
      (await rejection(collect(adapter.stream(ask("x", true), target(), { signal: signal() })))).kind,
    ).toBe("timeout");

    fake.setScript({ text: "late", stream: { headersDelayMs: 600 } });
    expect(
      (await rejection(collect(adapter.stream(ask("x", true), target(), { signal: signal() })))).kind,
    ).toBe("timeout");

    fake.setScript({ text: "abcdefghijkl", stream: { stallAfter: 6, stallMs: 600, splitBytes: 0 } });
    const stalled = await collect(adapter.stream(ask("x", true), target(), { signal: signal() }));
    expect(stalled.at(-1)).toMatchObject({ type: "error", error: { code: "timeout" } });

    fake.setScript({ kind: "hang" });
    const started = Date.now();
    expect((await rejection(adapter.complete(ask("x"), target(), { signal: signal() }))).kind).toBe(
      "timeout",
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("yields events as they arrive, and a slow consumer does not count as an idle provider", async () => {
    const { fake, adapter } = await setUp(format, { idle_ms: 150 });
    fake.setScript({ text: "abcdefghi", stream: { frameDelayMs: 60, splitBytes: 0 } });
    const started = Date.now();
    let firstDeltaAt = 0;
    const events: ChatStreamEvent[] = [];
    for await (const e of adapter.stream(ask("x", true), target(), { signal: signal() })) {
      if (e.type === "text_delta" && firstDeltaAt === 0) {
        firstDeltaAt = Date.now() - started;
        // Hold the stream for longer than idle_ms: the provider is not idle, the consumer is.
        await new Promise((r) => setTimeout(r, 400));
      }
      events.push(e);
    }
    const total = Date.now() - started;
    expect(events.at(-1)).toEqual({ type: "done" });
    expect(firstDeltaAt).toBeLessThan(total - 300);
  });

  it("destroys the upstream request when the client aborts, and reuses connections otherwise", async () => {
    const { fake, adapter } = await setUp(format);
    for (const text of ["one", "two", "three"]) {
      await adapter.complete(ask(text), target(), { signal: signal() });
      // The pool takes the connection back on a later tick than the body's end.
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(fake.openConnections()).toBe(1);

    fake.setScript({ kind: "hang" });
    const client = new AbortController();
    const pending = adapter.complete(ask("x"), target(), { signal: client.signal });
    await waitFor(() => fake.requests.length === 4);
    client.abort(new Error("client went away"));
    await expect(pending).rejects.toThrow("client went away");
    await waitFor(() => fake.abortedRequests() === 1);

    fake.setScript({ text: "abcdefghijklmnopqrstuvwxyz", stream: { frameDelayMs: 20 } });
    const consumer = new AbortController();
    const seen: ChatStreamEvent[] = [];
    const run = (async () => {
      for await (const e of adapter.stream(ask("x", true), target(), { signal: consumer.signal })) {
        seen.push(e);
        if (e.type === "text_delta") consumer.abort(new Error("gone mid-stream"));
      }
    })();
    await expect(run).rejects.toThrow("gone mid-stream");
    await waitFor(() => fake.abortedRequests() === 2);
    expect(seen.some((e) => e.type === "done")).toBe(false);
  });
});

describe("OpenAI Chat specifics", () => {
  it("asks for stream usage and reads a usage chunk with empty choices", async () => {
    const { fake, adapter } = await setUp("openai_chat");
    fake.setScript({ text: "hi", usage: { input: 11, output: 3 }, stream: { usageChoices: "empty" } });
    const result = assembleStream(
      await collect(adapter.stream(ask("x", true), target(), { signal: signal() })),
    ).result();
    expect(result.usage).toEqual({ input_tokens: 11, output_tokens: 3 });
    expect(fake.requests[0]?.body?.stream_options).toEqual({ include_usage: true });
    expect(fake.requests[0]?.body?.max_completion_tokens).toBe(50);
  });

  it("sends max_tokens and no credential to an OpenAI-compatible local server", async () => {
    fake = await startFakeProvider({ format: "openai_chat" });
    adapter = createProviderAdapter({
      ...providerConfig("openai_chat", fake.url),
      kind: "openai_compatible",
    });
    await adapter.complete(ask("x"), target(), { signal: signal() });
    expect(fake.requests[0]?.body?.max_tokens).toBe(50);
    expect(fake.requests[0]?.headers.authorization).toBeUndefined();
  });
});

describe("connect failures and the URL rule", () => {
  it("maps a refused connection to connect_error", async () => {
    const port = await freePort();
    adapter = createProviderAdapter(providerConfig("openai_chat", `http://127.0.0.1:${port}`));
    const e = await rejection(adapter.complete(ask("x"), target(), { signal: signal() }));
    expect(e).toMatchObject({ kind: "connect_error", retriable: true });
  });

  it("appends the API path after /v1 whether or not base_url ends in /v1", () => {
    const url = (base_url: string, kind: ProviderConfig["kind"], api?: ProviderConfig["api"]) =>
      providerEndpoint({ base_url, kind, ...(api ? { api } : {}) }).href;
    expect(url("https://api.example/v1", "openai")).toBe("https://api.example/v1/chat/completions");
    expect(url("https://api.example/v1/", "openai", "responses")).toBe("https://api.example/v1/responses");
    expect(url("https://api.example", "anthropic")).toBe("https://api.example/v1/messages");
    expect(url("http://127.0.0.1:11434", "openai_compatible")).toBe(
      "http://127.0.0.1:11434/v1/chat/completions",
    );
    expect(url("https://proxy.example/openai/", "openai")).toBe(
      "https://proxy.example/openai/v1/chat/completions",
    );
    expect(() => url("https://api.example/v1?x=1", "openai")).toThrow(/query/);
  });

  it("parses Retry-After as seconds or an HTTP-date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
