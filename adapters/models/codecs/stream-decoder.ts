/**
 * What every format's stream decoder does alike: nothing is emitted once the stream is over (its
 * terminal event or an error was seen), each SSE payload must be a JSON object (else the stream
 * ends with a `protocol_error`), an error ends the stream after the events already decoded, and
 * `end()` before the terminal event yields `stream_cut`. A format supplies `decode` for one
 * parsed payload and, where its protocol has one, `literal` for a payload that is not JSON
 * (OpenAI Chat's `[DONE]`).
 */
import type { ChatStreamEvent, SseEvent, StreamDecoder, WireFormat } from "../types.js";
import { type Json, parseEventJson, protocolError, streamCut } from "./shared.js";

export abstract class FormatStreamDecoder implements StreamDecoder {
  /** done or error seen: nothing more is emitted. */
  protected over = false;

  constructor(private readonly format: WireFormat) {}

  push(event: SseEvent): ChatStreamEvent[] {
    if (this.over) return [];
    const literal = this.literal(event.data);
    if (literal) return literal;
    const json = parseEventJson(event.data);
    if (!json)
      return this.fail(protocolError(`stream event is not a JSON object: ${event.data.slice(0, 120)}`));
    return this.decode(json, event);
  }

  end(): ChatStreamEvent[] {
    if (this.over) return [];
    this.over = true;
    return [streamCut(this.format)];
  }

  /** The events of one payload that parsed as a JSON object. */
  protected abstract decode(json: Json, event: SseEvent): ChatStreamEvent[];

  /** The events of a payload the format defines outside JSON; undefined to parse it as JSON. */
  protected literal(_data: string): ChatStreamEvent[] | undefined {
    return undefined;
  }

  /** Ends the stream with `error`, after the events already decoded from this payload. */
  protected fail(error: ChatStreamEvent, before: ChatStreamEvent[] = []): ChatStreamEvent[] {
    this.over = true;
    before.push(error);
    return before;
  }
}

/**
 * An error the provider reported after the 200: `rate_limited` (429) when its type or code word
 * names a rate limit, else `server_error` (502).
 */
export function midStreamError(kind: string, message: string): ChatStreamEvent {
  const rateLimited = /rate_limit/.test(kind);
  return {
    type: "error",
    error: { code: rateLimited ? "rate_limited" : "server_error", message, status: rateLimited ? 429 : 502 },
  };
}

/** A string member's value, or "" when it is absent or not a string. */
export function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** A token count: a finite non-negative number, else 0. */
export function count(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0;
}
