/**
 * Outbound provider adapters on undici: one keep-alive `Pool` per provider origin, the provider's
 * wire codec picked from its `api` (or its kind's default), the credential sent the way the
 * provider expects (`Authorization: Bearer` for OpenAI-style APIs, `x-api-key` +
 * `anthropic-version` for Anthropic), and every failure turned into a `ProviderError` whose
 * `kind` the router's retries and breakers read. Timeouts: `connect_ms` bounds the TCP/TLS
 * connect, `first_token_ms` the wait for the first streamed token, `idle_ms` the gap between body
 * chunks, `request_ms` the whole call. Aborting `options.signal` (a client that went away)
 * destroys the upstream request. No retries here: the router owns them.
 *
 * URL rule: `base_url` is the server root or its `/v1` (a trailing `/` is ignored); the API path
 * is appended after `/v1` — `https://api.openai.com/v1` and `https://api.openai.com` both give
 * `https://api.openai.com/v1/chat/completions`, `http://127.0.0.1:11434` gives
 * `http://127.0.0.1:11434/v1/chat/completions`.
 */
import type { Readable } from "node:stream";
import { Pool } from "undici";
import { type ProviderConfig, providerApi } from "../../contracts/index.js";
import { ConfigError } from "../../gateway/errors.js";
import { anthropicMessagesCodec, createOpenAIChatCodec, openaiResponsesCodec } from "./codecs/index.js";
import { ProtocolViolation } from "./codecs/shared.js";
import { ProviderError } from "./errors.js";
import { Call, header, IdleWatch, readLimited } from "./http-call.js";
import { errorText, inStreamFailure, statusError, transportError } from "./provider-failures.js";
import { SseParser } from "./sse.js";
import type {
  CallOptions,
  ChatRequest,
  ChatResponse,
  ChatStreamEvent,
  ProviderAdapter,
  ProviderTarget,
  WireCodec,
} from "./types.js";

/** The Anthropic API version the Messages codec speaks. */
export const ANTHROPIC_VERSION = "2023-06-01";

export { parseRetryAfter } from "./provider-failures.js";

const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;
const DEFAULTS = { connect_ms: 10_000, first_token_ms: 120_000, idle_ms: 120_000, request_ms: 600_000 };

const PATHS = {
  chat_completions: "/chat/completions",
  responses: "/responses",
  messages: "/messages",
} as const;

/** The endpoint URL of a provider's API, by the rule in the module header. */
export function providerEndpoint(config: Pick<ProviderConfig, "base_url" | "kind" | "api">): URL {
  let base: URL;
  try {
    base = new URL(config.base_url);
  } catch {
    throw new ConfigError(`provider base_url is not a URL: ${config.base_url}`);
  }
  if (base.search !== "" || base.hash !== "")
    throw new ConfigError("provider base_url must not carry a query or fragment");
  const root = base.pathname.replace(/\/+$/, "");
  const v1 = /\/v1$/.test(root) ? root : `${root}/v1`;
  return new URL(`${v1}${PATHS[providerApi(config)]}`, base.origin);
}

function codecOf(config: ProviderConfig): WireCodec {
  const api = providerApi(config);
  if (api === "messages") return anthropicMessagesCodec;
  if (api === "responses") return openaiResponsesCodec;
  return createOpenAIChatCodec({
    maxTokensField: config.kind === "openai" ? "max_completion_tokens" : "max_tokens",
  });
}

export function createProviderAdapter(config: ProviderConfig): ProviderAdapter {
  const endpoint = providerEndpoint(config);
  const codec = codecOf(config);
  const t = { ...DEFAULTS, ...config.timeouts };
  const pool = new Pool(endpoint.origin, {
    connections: 256,
    keepAliveTimeout: 30_000,
    connect: { timeout: t.connect_ms },
  });
  const id = config.id;
  const anthropic = providerApi(config) === "messages";

  function headers(target: ProviderTarget, stream: boolean): Record<string, string> {
    const h: Record<string, string> = {
      "content-type": "application/json",
      accept: stream ? "text/event-stream" : "application/json",
      "user-agent": "portcullis",
    };
    if (anthropic) {
      h["anthropic-version"] = ANTHROPIC_VERSION;
      if (target.credential !== undefined) h["x-api-key"] = target.credential;
    } else if (target.credential !== undefined) {
      h.authorization = `Bearer ${target.credential}`;
    }
    return h;
  }

  /** Sends the request; resolves with a 2xx body stream or throws a `ProviderError`. */
  async function send(
    request: ChatRequest,
    target: ProviderTarget,
    call: Call,
    stream: boolean,
  ): Promise<Readable> {
    const body = JSON.stringify(codec.encodeRequest({ ...request, stream }, target.model));
    let res: Awaited<ReturnType<Pool["request"]>>;
    try {
      res = await pool.request({
        origin: endpoint.origin,
        path: endpoint.pathname,
        method: "POST",
        headers: headers(target, stream),
        body,
        signal: call.controller.signal,
        headersTimeout: stream ? t.first_token_ms : t.request_ms,
        bodyTimeout: t.idle_ms,
      });
    } catch (e) {
      throw transportError(e, call, id, false);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const type = header(res.headers["content-type"]) ?? "";
      if (!stream || /^text\/event-stream\b/i.test(type)) return res.body;
      // A stream was asked for and something else came back (some servers answer errors this way).
      const text = await readLimited(res.body, MAX_ERROR_BYTES).catch(() => "");
      const message = errorText(text);
      throw new ProviderError(
        "protocol_error",
        `${id}: asked for an event stream, got ${type || "no content type"}${message ? `: ${message}` : ""}`,
        { provider: id, status: res.statusCode },
      );
    }
    const text = await readLimited(res.body, MAX_ERROR_BYTES).catch(() => "");
    throw statusError(res.statusCode, text, header(res.headers["retry-after"]), id);
  }

  return {
    target: { provider: config },

    async complete(
      request: ChatRequest,
      target: ProviderTarget,
      options: CallOptions,
    ): Promise<ChatResponse> {
      const call = new Call(options.signal, t.request_ms, id);
      try {
        const body = await send(request, target, call, false);
        let text: string;
        try {
          text = await readLimited(body, MAX_RESPONSE_BYTES);
        } catch (e) {
          throw transportError(e, call, id, false);
        }
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw new ProviderError("protocol_error", `${id}: the answer is not JSON: ${text.slice(0, 200)}`, {
            provider: id,
          });
        }
        try {
          return codec.decodeResponse(json);
        } catch (e) {
          if (e instanceof ProtocolViolation) {
            throw new ProviderError("protocol_error", `${id}: ${e.message}`, { provider: id });
          }
          throw e;
        }
      } finally {
        call.finish();
      }
    },

    stream(
      request: ChatRequest,
      target: ProviderTarget,
      options: CallOptions,
    ): AsyncIterable<ChatStreamEvent> {
      return streamCall(request, target, options);
    },

    async close(): Promise<void> {
      await pool.destroy();
    },
  };

  async function* streamCall(
    request: ChatRequest,
    target: ProviderTarget,
    options: CallOptions,
  ): AsyncGenerator<ChatStreamEvent> {
    const call = new Call(options.signal, t.request_ms, id);
    const firstToken = call.after(
      t.first_token_ms,
      () =>
        new ProviderError("timeout", `${id}: no first token within ${t.first_token_ms} ms`, { provider: id }),
    );
    let body: Readable | undefined;
    try {
      body = await send(request, target, call, true);
      // undici's own body timeout has a coarse (about 1 s) clock; this one is exact, and it does
      // not count the time the consumer takes between two events.
      const idle = new IdleWatch(t.idle_ms, () =>
        call.abort(new ProviderError("timeout", `${id}: no data for ${t.idle_ms} ms`, { provider: id })),
      );
      call.onFinish(() => idle.stop());
      const parser = new SseParser();
      const decoder = codec.streamDecoder();
      // Events before the first token are held back: a failure then rejects instead (the router
      // may still fall back, since the client has seen nothing).
      let held: ChatStreamEvent[] | undefined = [];
      const release = (events: ChatStreamEvent[]): ChatStreamEvent[] => {
        if (!held) return events;
        const out: ChatStreamEvent[] = [];
        for (const event of events) {
          if (!held) {
            out.push(event);
            continue;
          }
          if (event.type === "error") throw inStreamFailure(event, id);
          held.push(event);
          if (!isToken(event)) continue;
          clearTimeout(firstToken);
          out.push(...held);
          held = undefined;
        }
        return out;
      };
      try {
        for await (const chunk of body as AsyncIterable<Uint8Array>) {
          idle.touch();
          for (const sse of parser.push(chunk)) {
            for (const event of release(decoder.push(sse))) {
              idle.holding = true;
              yield event;
              idle.holding = false;
              idle.touch();
              if (event.type === "error" || event.type === "done") return;
            }
          }
        }
      } catch (e) {
        const error = transportError(e, call, id, held === undefined);
        if (held || !(error instanceof ProviderError)) throw error;
        yield { type: "error", error: { code: error.kind, message: error.message, status: 502 } };
        return;
      }
      for (const sse of parser.end()) {
        for (const event of release(decoder.push(sse))) {
          yield event;
          if (event.type === "error" || event.type === "done") return;
        }
      }
      for (const event of release(decoder.end())) yield event;
      if (held)
        throw new ProviderError("stream_cut", `${id}: the stream ended before any token`, { provider: id });
    } finally {
      call.finish();
      if (body && !body.readableEnded) body.destroy();
    }
  }
}

function isToken(event: ChatStreamEvent): boolean {
  return (
    event.type === "text_delta" ||
    event.type === "tool_arguments_delta" ||
    event.type === "finish" ||
    event.type === "done"
  );
}
