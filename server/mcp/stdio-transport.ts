/**
 * The stdio server transport of `portcullis stdio`: newline-delimited JSON-RPC on a readable and a
 * writable stream, the framing the SDK's `StdioServerTransport` uses (same 10 MiB line bound, a
 * trailing `\r` tolerated, a malformed line reported through `onerror` and skipped). The difference
 * is the `intercept` hook: each parsed message is offered to it first, and a message it takes
 * (a plain tool call, a cancellation of one) never reaches the SDK's schema parse or protocol
 * code. Every other message is checked against the JSON-RPC message schema and delivered.
 * Output goes through a `LineWriter`: a message is written at once; while other answers are on
 * their way, further messages of that event-loop turn go out in one write at its end.
 */
import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { type JSONRPCMessage, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { LineWriter } from "../../adapters/mcp/line-writer.js";

/** The SDK's default line bound. */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

/** Takes a parsed message off the SDK's path; returns true when it handled it. */
export type MessageIntercept = (message: unknown) => boolean;

export class StdioLineTransport implements Transport {
  onmessage?: Transport["onmessage"];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly stdin: Readable;
  private readonly writer: LineWriter;
  private readonly intercept: MessageIntercept | undefined;
  private pending: Buffer | undefined;
  private started = false;
  private closed = false;

  /** `busy`: whether other answers are on their way (batch this turn's further lines). */
  constructor(stdin: Readable, stdout: Writable, intercept?: MessageIntercept, busy?: () => boolean) {
    this.stdin = stdin;
    this.writer = new LineWriter(stdout, busy);
    this.intercept = intercept;
  }

  private readonly onData = (chunk: Buffer): void => {
    const size = (this.pending?.length ?? 0) + chunk.length;
    if (size > MAX_LINE_BYTES) {
      this.pending = undefined;
      this.onerror?.(new Error(`a message exceeded the maximum size of ${MAX_LINE_BYTES} bytes`));
      void this.close();
      return;
    }
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let nl = buf.indexOf(10);
    while (nl !== -1 && !this.closed) {
      const end = nl > 0 && buf[nl - 1] === 13 ? nl - 1 : nl;
      this.deliver(buf.toString("utf8", 0, end));
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(10);
    }
    this.pending = buf.length > 0 ? buf : undefined;
  };

  private readonly onStreamError = (error: Error): void => {
    this.onerror?.(error);
  };

  private deliver(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
      if (this.intercept?.(message)) return;
      message = JSONRPCMessageSchema.parse(message);
    } catch (e) {
      this.onerror?.(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.onmessage?.(message as JSONRPCMessage);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error("StdioLineTransport already started");
    this.started = true;
    this.stdin.on("data", this.onData);
    this.stdin.on("error", this.onStreamError);
  }

  /** Resolves when the stream took the line; lines of one turn after the first go out together. */
  send(message: JSONRPCMessage): Promise<void> {
    return this.writer.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off("data", this.onData);
    this.stdin.off("error", this.onStreamError);
    if (this.stdin.listenerCount("data") === 0) this.stdin.pause();
    this.pending = undefined;
    this.onclose?.();
  }
}
