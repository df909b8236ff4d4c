/**
 * Server-sent events, both ways. `SseParser` is an incremental parser following the WHATWG
 * "event stream interpretation" rules: bytes arrive in any chunking (a line, a CRLF pair or a
 * UTF-8 character may be split across chunks), a leading BOM is dropped, lines end in LF, CR or
 * CRLF, `:` lines are comments, `data` lines accumulate, an event is dispatched only at a blank
 * line and a trailing unterminated event is discarded at the end of the stream. `formatSseFrame`
 * writes one event as text that any such parser reads back unchanged.
 */
import type { SseEvent } from "./types.js";

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

/** An incremental SSE parser: one per stream. */
export class SseParser {
  // Not fatal: the spec decodes with replacement characters; the default strips one leading BOM.
  private readonly decoder = new TextDecoder("utf-8");
  /** An unterminated line carried over from the previous chunk. */
  private pending = "";
  /** The previous chunk ended in CR: a LF starting the next one belongs to the same line end. */
  private skipLf = false;
  private data = "";
  private hasData = false;
  private eventType = "";
  private retry: number | undefined;
  /** The current block carried a `retry:` field (reported on the event it dispatches). */
  private retryInBlock = false;
  /** The last event ID buffer (persists across events, as the spec says). */
  private lastEventId = "";
  private ended = false;

  /** Feed one chunk of bytes; returns the events it completed, in order. */
  push(chunk: Uint8Array): SseEvent[] {
    if (this.ended) throw new Error("SSE parser: push after end");
    const out: SseEvent[] = [];
    this.feed(this.decoder.decode(chunk, { stream: true }), out);
    return out;
  }

  /** The stream ended: flushes the decoder; an unterminated line or event is discarded. */
  end(): SseEvent[] {
    if (this.ended) return [];
    const out: SseEvent[] = [];
    this.feed(this.decoder.decode(), out);
    this.ended = true;
    this.pending = "";
    this.resetEvent();
    return out;
  }

  /** The reconnection time the stream asked for (`retry:`), if any. */
  get reconnectionTimeMs(): number | undefined {
    return this.retry;
  }

  private feed(text: string, out: SseEvent[]): void {
    const n = text.length;
    let start = 0;
    if (this.skipLf && n > 0) {
      this.skipLf = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    for (let i = start; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      const piece = text.slice(start, i);
      const line = this.pending.length > 0 ? this.pending + piece : piece;
      this.pending = "";
      this.line(line, out);
      if (c === CR) {
        if (i + 1 < n) {
          if (text.charCodeAt(i + 1) === LF) i++;
        } else {
          this.skipLf = true;
        }
      }
      start = i + 1;
    }
    if (start < n) this.pending += text.slice(start);
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === COLON) return;
    const colon = line.indexOf(":");
    let field: string;
    let value: string;
    if (colon < 0) {
      field = line;
      value = "";
    } else {
      field = line.slice(0, colon);
      value = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    }
    switch (field) {
      case "data":
        this.data = this.hasData ? `${this.data}\n${value}` : value;
        this.hasData = true;
        break;
      case "event":
        this.eventType = value;
        break;
      case "id":
        if (!value.includes("\u0000")) this.lastEventId = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        this.retryInBlock = true;
        break;
      default:
        break;
    }
  }

  private dispatch(out: SseEvent[]): void {
    if (this.hasData) {
      const event: SseEvent = { data: this.data };
      if (this.eventType !== "") event.event = this.eventType;
      if (this.lastEventId !== "") event.id = this.lastEventId;
      if (this.retryInBlock && this.retry !== undefined) event.retry = this.retry;
      out.push(event);
    }
    this.resetEvent();
  }

  private resetEvent(): void {
    this.data = "";
    this.hasData = false;
    this.eventType = "";
    this.retryInBlock = false;
  }
}

/** Parses a byte stream (e.g. an HTTP body) into events as they complete, without buffering. */
export async function* parseSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  for await (const chunk of body) {
    for (const event of parser.push(chunk)) yield event;
  }
  for (const event of parser.end()) yield event;
}

/**
 * One event as SSE text: `event:` / `id:` / `retry:` lines, one `data:` line per line of `data`
 * (CR, LF and CRLF in it all become separate lines), then the blank line that dispatches it.
 */
export function formatSseFrame(event: SseEvent): string {
  let frame = "";
  if (event.event !== undefined) frame += `event: ${singleLine(event.event, "event")}\n`;
  if (event.id !== undefined) {
    if (event.id.includes("\u0000")) throw new Error("SSE id must not contain NUL");
    frame += `id: ${singleLine(event.id, "id")}\n`;
  }
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0)
      throw new Error("SSE retry must be a non-negative integer");
    frame += `retry: ${event.retry}\n`;
  }
  const data = event.data;
  if (data.indexOf("\n") < 0 && data.indexOf("\r") < 0) return `${frame}data: ${data}\n\n`;
  for (const line of data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

/** A comment frame (ignored by parsers; used as a keep-alive). */
export function formatSseComment(text = ""): string {
  return text === "" ? ":\n\n" : `: ${singleLine(text, "comment")}\n\n`;
}

function singleLine(value: string, what: string): string {
  if (value.includes("\n") || value.includes("\r")) throw new Error(`SSE ${what} must be a single line`);
  return value;
}
