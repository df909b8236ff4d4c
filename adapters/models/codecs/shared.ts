/**
 * Small pieces every codec shares: reading untrusted JSON with errors that name the offending
 * path (`ModelRequestError` for a caller's request, a protocol error for a provider's answer),
 * the passthrough rules (an unmodelled field is carried to a same-format target and refused for
 * any other), data-URL images, and the neutral error for a stream that ended without its
 * terminal event.
 */
import { ModelRequestError, UnsupportedFeatureError } from "../errors.js";
import type { ChatRequest, ChatStreamEvent, ModelErrorBody, StreamDecoder, WireFormat } from "../types.js";

export type Json = Record<string, unknown>;

/** A reader of untrusted JSON that throws `make(message)` with the path on bad shapes. */
export class Reader {
  constructor(private readonly make: (message: string) => Error) {}

  fail(path: string, expected: string): never {
    throw this.make(`${path}: expected ${expected}`);
  }

  object(value: unknown, path: string): Json {
    if (value === null || typeof value !== "object" || Array.isArray(value)) this.fail(path, "an object");
    return value as Json;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, "an array");
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string") this.fail(path, "a string");
    return value;
  }

  optString(value: unknown, path: string): string | undefined {
    return value === undefined || value === null ? undefined : this.string(value, path);
  }

  optNumber(
    value: unknown,
    path: string,
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
  ): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
      this.fail(path, `a number in [${min}, ${max}]`);
    }
    return value;
  }

  optInt(value: unknown, path: string, min = 0): number | undefined {
    const n = this.optNumber(value, path, min);
    if (n !== undefined && !Number.isSafeInteger(n)) this.fail(path, "an integer");
    return n;
  }

  optBool(value: unknown, path: string): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") this.fail(path, "a boolean");
    return value;
  }

  /** A string or an array of strings, as `stop` fields allow. */
  optStrings(value: unknown, path: string): string[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string") return [value];
    return this.array(value, path).map((s, i) => this.string(s, `${path}[${i}]`));
  }

  /** A string-to-string map (metadata). */
  optStringMap(value: unknown, path: string): Record<string, string> | undefined {
    if (value === undefined || value === null) return undefined;
    const o = this.object(value, path);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) out[k] = this.string(v, `${path}.${k}`);
    return out;
  }
}

/** Reads a caller's request: errors are `ModelRequestError` (400). */
export const requestReader = new Reader((m) => new ModelRequestError(m));

/** An error in a provider's answer: the provider broke its own protocol. */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolViolation";
  }
}

/** Reads a provider's answer: errors are `ProtocolViolation` (the adapter maps them). */
export const responseReader = new Reader((m) => new ProtocolViolation(m));

/**
 * Splits a request body into modelled fields and the rest. `noops` lists fields whose given
 * value changes nothing (e.g. `n: 1`) so they are not carried as features.
 */
export function collectPassthrough(
  body: Json,
  modelled: ReadonlySet<string>,
  format: WireFormat,
  noops: Readonly<Record<string, unknown>> = {},
): ChatRequest["passthrough"] {
  const fields: Json = {};
  for (const [key, value] of Object.entries(body)) {
    if (modelled.has(key) || value === undefined) continue;
    if (key in noops && noops[key] === value) continue;
    fields[key] = value;
  }
  return Object.keys(fields).length > 0 ? { format, fields } : undefined;
}

/**
 * The passthrough fields to merge into a request for `format`: all of them when the request came
 * in that format, else an `UnsupportedFeatureError` naming the first one.
 */
export function passthroughFor(request: ChatRequest, format: WireFormat): Json {
  const pass = request.passthrough;
  if (!pass) return {};
  if (pass.format === format) return pass.fields;
  const first = Object.keys(pass.fields)[0];
  if (first === undefined) return {};
  throw new UnsupportedFeatureError(`${pass.format} field "${first}"`, format);
}

/** `data:<media>;base64,<data>` → its parts; other URLs → undefined. */
export function parseDataUrl(url: string): { media_type: string; data: string } | undefined {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { media_type: m[1] as string, data: m[2] as string } : undefined;
}

export function dataUrl(media_type: string | undefined, data: string): string {
  return `data:${media_type ?? "application/octet-stream"};base64,${data}`;
}

/** The neutral error for a stream that ended without its terminal event. */
export function streamCut(format: WireFormat): ChatStreamEvent {
  return {
    type: "error",
    error: {
      code: "stream_cut",
      message: `the ${format} stream ended before its terminal event`,
      status: 502,
    },
  };
}

/** The neutral error for a provider event that breaks its own protocol. */
export function protocolError(message: string): ChatStreamEvent {
  return { type: "error", error: { code: "protocol_error", message, status: 502 } };
}

/** Parses one SSE data payload as a JSON object; undefined when it is not one. */
export function parseEventJson(data: string): Json | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // not JSON: the caller reports a protocol error
  }
  return undefined;
}

/** The error message inside an OpenAI- or Anthropic-shaped error body (`{error:{message}}`). */
export function providerErrorMessage(body: unknown): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === "string") return error;
  if (error && typeof error === "object") {
    const message = (error as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  const message = (body as { message?: unknown }).message;
  if (typeof message === "string") return message;
  // FastAPI-based servers (vLLM) answer validation failures with `detail`.
  const detail = (body as { detail?: unknown }).detail;
  if (typeof detail === "string") return detail;
  return detail === undefined ? undefined : JSON.stringify(detail).slice(0, 500);
}

/** Neutral error code → the provider-style error type word used in OpenAI bodies. */
export function openaiErrorType(error: ModelErrorBody): string {
  if (error.status === 429) return "rate_limit_exceeded";
  if (error.status >= 500) return "server_error";
  if (error.status === 401) return "authentication_error";
  return "invalid_request_error";
}

/** The error body both OpenAI formats write (`{error:{message,type,param,code}}`). */
export function openaiErrorBody(error: ModelErrorBody): Json {
  return { error: { message: error.message, type: openaiErrorType(error), param: null, code: error.code } };
}

/** A JSON object's tool arguments as a string ("{}" for none). */
export function argumentsText(input: unknown): string {
  return input === undefined ? "{}" : JSON.stringify(input);
}

/**
 * Wraps a format's stream decoder so that whatever the provider sends, the neutral stream keeps
 * its grammar: an event that would break it (a delta for an unknown or closed part, a second
 * start or finish, a part after the finish, `done` without a finish) becomes a `protocol_error`
 * that ends the stream, and an `end()` without a terminal event yields `stream_cut`.
 */
export function grammarGuarded(inner: StreamDecoder, format: WireFormat): StreamDecoder {
  let started = false;
  let finished = false;
  let over = false;
  const parts = new Map<number, "text" | "tool_call" | "closed">();

  const problem = (e: ChatStreamEvent): string | undefined => {
    if (e.type === "error") return undefined;
    if (e.type === "start") {
      if (started) return "a second start";
      started = true;
      return undefined;
    }
    if (!started) return `${e.type} before start`;
    switch (e.type) {
      case "part_start":
        if (finished) return "a part after the finish";
        if (parts.has(e.index)) return `part ${e.index} started twice`;
        parts.set(e.index, e.part.type);
        return undefined;
      case "text_delta":
      case "tool_arguments_delta": {
        const kind = parts.get(e.index);
        const want = e.type === "text_delta" ? "text" : "tool_call";
        return kind === want
          ? undefined
          : `${e.type} for ${kind === undefined ? "an unknown" : `a ${kind}`} part`;
      }
      case "part_stop":
        if (parts.get(e.index) === undefined || parts.get(e.index) === "closed")
          return `part_stop for part ${e.index}`;
        parts.set(e.index, "closed");
        return undefined;
      case "finish":
        if (finished) return "a second finish";
        for (const kind of parts.values()) if (kind !== "closed") return "a finish while a part is open";
        finished = true;
        return undefined;
      case "usage":
        return undefined;
      case "done":
        return finished ? undefined : "the end of the stream without a stop reason";
    }
  };

  const pass = (events: ChatStreamEvent[]): ChatStreamEvent[] => {
    if (over) return [];
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as ChatStreamEvent;
      const wrong = problem(e);
      if (wrong) {
        over = true;
        return [...events.slice(0, i), protocolError(`the ${format} stream broke its grammar: ${wrong}`)];
      }
      if (e.type === "done" || e.type === "error") {
        over = true;
        return i === events.length - 1 ? events : events.slice(0, i + 1);
      }
    }
    return events;
  };

  return {
    push: (event) => pass(inner.push(event)),
    end: () => {
      const out = pass(inner.end());
      if (!over) {
        over = true;
        out.push(streamCut(format));
      }
      return out;
    },
  };
}
