/**
 * Fake model providers: real `node:http` servers on 127.0.0.1 (port 0) that speak one wire format
 * exactly — OpenAI Chat Completions, OpenAI Responses or Anthropic Messages — so adapters, the
 * router and the acceptance tests run over real sockets. Every request is recorded (method, path,
 * headers, parsed body) so a test can assert on what reached the provider (e.g. that a secret was
 * redacted before egress). A script decides each answer from the request: an answer streamed in
 * deliberately split frames, an HTTP error (429 + Retry-After, 5xx), a slow first token, an error
 * event after the 200, a stream cut mid-way, or a request that never gets an answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { anthropicMessagesWire } from "./wire/anthropic-messages.js";
import { openaiChatWire } from "./wire/openai-chat.js";
import { openaiResponsesWire } from "./wire/openai-responses.js";
import type { FakeAnswer, FakeStreamShape, FakeWire } from "./wire/types.js";

export type { FakeAnswer, FakeStreamShape } from "./wire/types.js";

export type FakeFormat = "openai_chat" | "openai_responses" | "anthropic_messages";

const WIRES: Record<FakeFormat, FakeWire> = {
  openai_chat: openaiChatWire,
  openai_responses: openaiResponsesWire,
  anthropic_messages: anthropicMessagesWire,
};

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: Record<string, unknown> | undefined;
  /** The raw body text. */
  raw: string;
}

/** What the fake does with one request. */
export type FakeReply =
  | ({ kind?: "answer"; stream?: FakeStreamShape } & FakeAnswer)
  | {
      kind: "http_error";
      status: number;
      message?: string;
      /** Sent as the `Retry-After` header (seconds or an HTTP-date). */
      retryAfter?: string;
      /** A raw body instead of the format's error JSON. */
      rawBody?: string;
      headersDelayMs?: number;
    }
  /** No answer at all until the client gives up (or the fake closes). */
  | { kind: "hang" };

/** Context a script function gets besides the request. */
export interface ScriptContext {
  /** 0-based number of this request since the fake started. */
  n: number;
  /** The text of the request's last user message. */
  lastUserText: string;
  stream: boolean;
}

export type FakeScript = FakeReply | ((request: RecordedRequest, ctx: ScriptContext) => FakeReply);

export interface FakeProvider {
  /** Base URL, e.g. `http://127.0.0.1:PORT` (paths are `/v1/...`). */
  url: string;
  format: FakeFormat;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  setScript(script: FakeScript): void;
  /** Number of connections currently open (keep-alive reuse shows as a steady count). */
  openConnections(): number;
  /** Requests whose connection closed before the fake finished answering (client aborts). */
  abortedRequests(): number;
  close(): Promise<void>;
}

/** The default script: a streamed or plain answer `echo: <last user text>`. */
export const echoScript: FakeScript = (_req, ctx) => ({ text: `echo: ${ctx.lastUserText}` });

/** Fails the first `n` requests with `status`, then answers with `then`. */
export function failFirst(
  n: number,
  status: number,
  then: FakeScript = echoScript,
  retryAfter?: string,
): FakeScript {
  return (req, ctx) => {
    if (ctx.n < n)
      return {
        kind: "http_error",
        status,
        message: `fake failure ${ctx.n + 1} of ${n}`,
        ...(retryAfter ? { retryAfter } : {}),
      };
    return typeof then === "function" ? then(req, ctx) : then;
  };
}

export async function startFakeProvider(options: {
  format: FakeFormat;
  script?: FakeScript;
}): Promise<FakeProvider> {
  const wire = WIRES[options.format];
  let script: FakeScript = options.script ?? echoScript;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let serial = 0;
  let aborted = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify(wire.errorBody(500, `fake provider crashed: ${String(e)}`)));
      } else {
        res.destroy();
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let cutByScript = false;
    res.on("close", () => {
      if (!res.writableFinished && !cutByScript) aborted++;
    });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
        body = parsed as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      headers[k] = Array.isArray(v) ? v.join(", ") : (v ?? "");
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const recorded: RecordedRequest = { method: req.method ?? "GET", path, headers, body, raw };
    requests.push(recorded);
    const n = requests.length - 1;

    if (req.method === "GET" && path === "/v1/models") {
      return sendJson(res, 200, {
        object: "list",
        data: [{ id: "fake-model", object: "model", owned_by: "fake" }],
      });
    }
    if (req.method !== "POST" || path !== wire.path) {
      return sendJson(
        res,
        404,
        wire.errorBody(404, `no route ${req.method} ${path} on a ${options.format} fake`),
      );
    }
    if (!body) return sendJson(res, 400, wire.errorBody(400, "request body is not a JSON object"));

    const stream = wire.isStream(body);
    const ctx: ScriptContext = { n, lastUserText: wire.lastUserText(body), stream };
    const reply = typeof script === "function" ? script(recorded, ctx) : script;
    if (reply.kind === "hang") {
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (reply.kind === "http_error") {
      if (reply.headersDelayMs) await sleep(reply.headersDelayMs);
      const extra: Record<string, string> = reply.retryAfter ? { "retry-after": reply.retryAfter } : {};
      if (reply.rawBody !== undefined) {
        res.writeHead(reply.status, { "content-type": "text/plain", ...extra });
        res.end(reply.rawBody);
        return;
      }
      return sendJson(
        res,
        reply.status,
        wire.errorBody(reply.status, reply.message ?? `fake ${reply.status}`),
        extra,
      );
    }
    const wctx = {
      body,
      model: reply.model ?? (typeof body.model === "string" ? body.model : "fake-model"),
      serial: ++serial,
    };
    const shape = reply.stream ?? {};
    if (shape.headersDelayMs) await sleep(shape.headersDelayMs);
    if (!stream || shape.jsonInsteadOfStream) return sendJson(res, 200, wire.json(reply, wctx));

    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    res.flushHeaders();
    if (shape.firstEventDelayMs) await sleep(shape.firstEventDelayMs);
    const frames = wire.frames(reply, wctx, shape);
    let sent = 0;
    for (const text of frames) {
      if (shape.cutAfter !== undefined && sent >= shape.cutAfter) {
        cutByScript = true;
        if (shape.cutMode === "end") res.end();
        else res.destroy();
        return;
      }
      if (shape.errorAfter !== undefined && sent >= shape.errorAfter) {
        await write(res, wire.errorFrame("fake provider overloaded mid-stream", wctx), shape);
        res.end();
        return;
      }
      if (res.destroyed) return;
      await write(res, text, shape);
      sent++;
      if (shape.pings && sent === 1) await write(res, `${wire.pingFrame()}: comment line\n\n`, shape);
      if (shape.frameDelayMs) await sleep(shape.frameDelayMs);
      if (shape.stallAfter === sent && shape.stallMs) await sleep(shape.stallMs);
    }
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    format: options.format,
    requests,
    setScript(next) {
      script = next;
    },
    openConnections: () => sockets.size,
    abortedRequests: () => aborted,
    async close() {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    ...extra,
  });
  res.end(text);
}

/** Writes one frame, in pieces of `splitBytes` bytes with a turn of the event loop between them. */
async function write(res: ServerResponse, text: string, shape: FakeStreamShape): Promise<void> {
  const bytes = Buffer.from(text, "utf8");
  const size = shape.splitBytes ?? 7;
  if (size <= 0 || size >= bytes.length) {
    res.write(bytes);
    return;
  }
  for (let i = 0; i < bytes.length; i += size) {
    if (res.destroyed) return;
    res.write(bytes.subarray(i, i + size));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
