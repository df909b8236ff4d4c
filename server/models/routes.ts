/**
 * The model API as one hono sub-app, mounted by `createApp` before the REST API: OpenAI-compatible
 * `POST /v1/chat/completions` and `POST /v1/responses`, Anthropic-compatible `POST /v1/messages`
 * (each streamed or not) and `GET /v1/models` (OpenAI's list shape, Anthropic's when the client
 * sends `anthropic-version`). Routes only translate: the client's codec decodes the body into the
 * neutral request, the model gateway routes, redacts, decides and audits, and the same codec
 * encodes the answer — so an OpenAI client may be served by an Anthropic provider and the reverse.
 * Authentication and body-limit failures are gateway errors (problem+json); everything after is a
 * model error in the client's own format, in-stream as an error frame once the stream started.
 * Every response carries `x-portcullis-overhead-ms` and `Server-Timing` with the gateway's own
 * time (the whole time minus the time spent waiting for providers, up to the response headers).
 */
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { codecFor } from "../../adapters/models/codecs/index.js";
import type { ChatStreamEvent, WireCodec, WireFormat } from "../../adapters/models/types.js";
import { type ModelCallContext, type ModelGateway, modelErrorBody } from "../../gateway/models/index.js";
import type { Env, GateOptions } from "../rest/gate.js";
import { readJsonBody } from "../rest/gate.js";
import { problemOf, problemResponse } from "../rest/problem.js";
import { authenticateModelCaller } from "./auth.js";

export interface ModelRouteDeps {
  gateway: ModelGateway;
  /** The REST API's gate (auth, Host/Origin, scopes); `maxBodyBytes` is the model API's own limit. */
  gate: GateOptions;
}

const ROUTES: ReadonlyArray<[string, WireFormat]> = [
  ["/v1/chat/completions", "openai_chat"],
  ["/v1/responses", "openai_responses"],
  ["/v1/messages", "anthropic_messages"],
];

function timingHeaders(startedAt: number, providerMs: number): Record<string, string> {
  const overhead = Math.max(0, performance.now() - startedAt - providerMs).toFixed(3);
  return { "x-portcullis-overhead-ms": overhead, "server-timing": `gateway;dur=${overhead}` };
}

/** A model error in the client's own format, with Retry-After when the error carries one. */
function modelErrorResponse(codec: WireCodec, e: unknown, headers: Record<string, string>): Response {
  const body = modelErrorBody(e);
  const retryAfterMs = (e as { details?: { retryAfterMs?: unknown } } | null)?.details?.retryAfterMs;
  const retry: Record<string, string> =
    typeof retryAfterMs === "number" && (body.status === 429 || body.status === 503)
      ? { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }
      : {};
  return new Response(JSON.stringify(codec.encodeError(body)), {
    status: body.status,
    headers: { "content-type": "application/json", ...retry, ...headers },
  });
}

/** The SSE body: the encoder's frames as they come; cancelling it ends the call (upstream aborted). */
function sseBody(events: AsyncGenerator<ChatStreamEvent>, encoder: ReturnType<WireCodec["streamEncoder"]>) {
  const text = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const r = await events.next();
          if (r.done) {
            controller.close();
            return;
          }
          const frames = encoder.push(r.value);
          if (frames.length > 0) {
            controller.enqueue(text.encode(frames.join("")));
            return;
          }
        }
      } catch (e) {
        // The gateway turns failures into error events; this is a last resort that still speaks the format.
        for (const f of encoder.push({ type: "error", error: modelErrorBody(e) }))
          controller.enqueue(text.encode(f));
        controller.close();
      }
    },
    async cancel() {
      await events.return(undefined);
    },
  });
}

export function createModelRoutes(deps: ModelRouteDeps): Hono<Env> {
  const app = new Hono<Env>();
  const { gateway, gate } = deps;

  for (const [path, format] of ROUTES) {
    const codec = codecFor(format);
    app.post(path, async (c) => {
      const startedAt = performance.now();
      const stats = { providerMs: 0 };
      const principal = await authenticateModelCaller(c, gate);
      if (principal instanceof Response) return principal;
      let body: Record<string, unknown>;
      try {
        body = await readJsonBody(c, gate);
      } catch (e) {
        return problemResponse(problemOf(e), timingHeaders(startedAt, 0));
      }
      const abort = new AbortController();
      // The node server aborts the request's signal when the client disconnects before the end.
      const onClose = () => abort.abort(new Error("the client went away"));
      c.req.raw.signal.addEventListener("abort", onClose, { once: true });
      const ctx: ModelCallContext = {
        id: randomUUID(),
        principal,
        transport: "http",
        signal: abort.signal,
        stats,
        ...(c.req.header("x-portcullis-session") ? { session: c.req.header("x-portcullis-session")! } : {}),
      };
      try {
        const request = codec.decodeRequest(body);
        if (!request.stream) {
          const answer = await gateway.complete(request, ctx);
          return new Response(JSON.stringify(codec.encodeResponse(answer)), {
            status: 200,
            headers: { "content-type": "application/json", ...timingHeaders(startedAt, stats.providerMs) },
          });
        }
        const events = await gateway.stream(request, ctx);
        return new Response(sseBody(events, codec.streamEncoder(request)), {
          status: 200,
          headers: {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            "x-accel-buffering": "no",
            ...timingHeaders(startedAt, stats.providerMs),
          },
        });
      } catch (e) {
        return modelErrorResponse(codec, e, timingHeaders(startedAt, stats.providerMs));
      }
    });
  }

  app.get("/v1/models", async (c) => {
    const startedAt = performance.now();
    const principal = await authenticateModelCaller(c, gate);
    if (principal instanceof Response) return principal;
    const models = await gateway.listModels(principal, { id: randomUUID(), transport: "http" });
    const headers = timingHeaders(startedAt, 0);
    if (c.req.header("anthropic-version") !== undefined)
      return c.json(
        {
          data: models.map((m) => ({
            type: "model",
            id: m.id,
            display_name: m.id,
            created_at: "1970-01-01T00:00:00Z",
          })),
          has_more: false,
          first_id: models[0]?.id ?? null,
          last_id: models.at(-1)?.id ?? null,
        },
        200,
        headers,
      );
    return c.json(
      {
        object: "list",
        data: models.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: "portcullis" })),
      },
      200,
      headers,
    );
  });

  return app;
}
