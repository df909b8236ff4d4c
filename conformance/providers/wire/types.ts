/**
 * What a fake provider's script answers, independent of the wire format, and the interface each
 * format's writer implements. The writers are written by hand from the providers' API references
 * — deliberately not with the gateway's codecs, so that a codec bug cannot hide behind a fake
 * that shares it.
 */

/** A finished answer as the script sees it; the wire writer renders it in its own format. */
export interface FakeAnswer {
  /** Assistant text; omitted or "" means no text part. */
  text?: string;
  /** Tool calls, in order (ids are generated when absent). */
  toolCalls?: { id?: string; name: string; arguments: string }[];
  /** Neutral stop reason; default `tool_use` when there are tool calls, else `end_turn`. */
  stop?: "end_turn" | "max_tokens" | "tool_use" | "stop_sequence" | "content_filter";
  /** The stop sequence that matched (Anthropic reports it). */
  stopSequence?: string;
  usage?: { input: number; output: number };
  /** The model name to report; default: the one requested. */
  model?: string;
}

/** How a streamed answer is put on the wire. */
export interface FakeStreamShape {
  /** Frames are written in pieces of this many bytes (mid-line, mid-UTF-8). Default 7; 0 = whole frames. */
  splitBytes?: number;
  /** Characters of text per delta. Default 3. */
  textDeltaChars?: number;
  /** Parallel tool-call argument deltas interleaved across calls (formats that allow it). */
  interleave?: boolean;
  /** Comment lines and, for Anthropic, `ping` events between frames. */
  pings?: boolean;
  /** Delay before the response headers are sent. */
  headersDelayMs?: number;
  /** Delay after the headers, before the first event. */
  firstEventDelayMs?: number;
  /** Delay between frames. */
  frameDelayMs?: number;
  /** After this many events, one pause of `stallMs` (an idle stream, for idle timeouts). */
  stallAfter?: number;
  stallMs?: number;
  /** After this many events, an in-stream error event (the HTTP status was already 200). */
  errorAfter?: number;
  /** After this many events the stream stops: `destroy` kills the socket, `end` ends the body cleanly. */
  cutAfter?: number;
  cutMode?: "destroy" | "end";
  /** Answers a stream request with a plain JSON body (a server that ignores `stream`). */
  jsonInsteadOfStream?: boolean;
  /** OpenAI Chat: the final usage chunk's `choices` (`[]` as OpenAI sends it, `null` as some servers do). */
  usageChoices?: "empty" | "null";
}

export interface WireContext {
  /** The request body as received (parsed JSON). */
  body: Record<string, unknown>;
  /** The model to report. */
  model: string;
  /** A per-response counter for ids. */
  serial: number;
}

/** One wire format, as a fake provider writes it. */
export interface FakeWire {
  /** The request path, e.g. `/v1/chat/completions`. */
  path: string;
  /** Whether the request asked for a stream. */
  isStream(body: Record<string, unknown>): boolean;
  /** The text of the last user message (scripts echo it). */
  lastUserText(body: Record<string, unknown>): string;
  /** The non-streamed response body. */
  json(answer: FakeAnswer, ctx: WireContext): Record<string, unknown>;
  /** The streamed answer: one SSE frame (complete text, blank line included) per event. */
  frames(answer: FakeAnswer, ctx: WireContext, shape: FakeStreamShape): string[];
  /** The error body for an HTTP error response. */
  errorBody(status: number, message: string): Record<string, unknown>;
  /** An in-stream error frame sent after a 200. */
  errorFrame(message: string, ctx: WireContext): string;
  /** A keep-alive frame (a comment, or Anthropic's `ping` event). */
  pingFrame(): string;
}

/** One SSE frame with a JSON data line (and an optional event name). */
export function frame(data: unknown, event?: string): string {
  return `${event === undefined ? "" : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** Splits text into pieces of `n` characters (code points, so no surrogate pair is cut). */
export function pieces(text: string, n: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += Math.max(1, n))
    out.push(chars.slice(i, i + Math.max(1, n)).join(""));
  return out;
}

/** Usage figures for an answer: the script's, else a deterministic estimate. */
export function usageOf(
  answer: FakeAnswer,
  body: Record<string, unknown>,
): { input: number; output: number } {
  if (answer.usage) return answer.usage;
  const output =
    (answer.text?.length ?? 0) + (answer.toolCalls ?? []).reduce((n, c) => n + c.arguments.length, 0);
  return { input: Math.ceil(JSON.stringify(body).length / 4), output: Math.ceil(output / 4) };
}

export function stopOf(answer: FakeAnswer): NonNullable<FakeAnswer["stop"]> {
  return answer.stop ?? ((answer.toolCalls?.length ?? 0) > 0 ? "tool_use" : "end_turn");
}

/** The text of a content value that is a string or an array of typed parts. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((p) =>
      p && typeof p === "object" && typeof (p as { text?: unknown }).text === "string"
        ? (p as { text: string }).text
        : "",
    )
    .join("");
}
