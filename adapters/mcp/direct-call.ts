/**
 * Tool calls to a 2025-era stdio upstream written straight onto the link's transport, beside the
 * SDK client that did the handshake and keeps handling everything else (the upstream's requests
 * and notifications, lists, prompts, resources). A call gets its own string id (`portcullis-N`,
 * never one of the client's numeric ids), its response is taken off the transport before the
 * client sees it, and a text-only result skips the result schema (any other shape is parsed with
 * it, as the client would). Abort, close and error behaviour mirror the SDK client's `request`:
 * an already aborted signal rejects with its reason, a later abort sends `notifications/cancelled` and rejects with the reason (an McpError as is, else a
 * RequestTimeout McpError naming it); a closed transport rejects with ConnectionClosed; an error
 * response rejects with an McpError carrying the upstream's code, message and data.
 *
 * The upstream's stdout is framed by our own line reader (`installFraming`): a response to one of
 * our pending ids is handed over after `JSON.parse` alone (its result is checked by `settle`),
 * every other line still goes through the SDK's JSON-RPC message schema, as the client expects.
 * Our requests go onto the child's stdin through a `LineWriter` (the first of an event-loop turn
 * at once, the rest of the turn in one write, while other calls are pending), so concurrent calls
 * cost fewer pipe writes.
 */
import type { Writable } from "node:stream";
import { STDIO_DEFAULT_MAX_BUFFER_SIZE } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import { isTextOnlyResult } from "../../gateway/registry/text-result.js";
import { type Abortable, onAbort } from "./call-abort.js";
import { LineWriter } from "./line-writer.js";

/** The read buffer the SDK's stdio client transport frames stdout with (its `_readBuffer`). */
interface LineReader {
  append(chunk: Buffer): void;
  readMessage(): JSONRPCMessage | null;
  clear(): void;
}

/**
 * Splits the upstream's stdout into JSON-RPC messages like the SDK's ReadBuffer (newline framing,
 * optional CR, the same size limit), but a line that is a response to one of our direct calls
 * skips the message schema: `ours(id)` says whether the id is pending here.
 */
export class DirectFraming implements LineReader {
  private buffer: Buffer | undefined;
  private readonly ours: (id: string) => boolean;
  private readonly maxBufferSize: number;

  constructor(ours: (id: string) => boolean, maxBufferSize = STDIO_DEFAULT_MAX_BUFFER_SIZE) {
    this.ours = ours;
    this.maxBufferSize = maxBufferSize;
  }

  append(chunk: Buffer): void {
    const size = (this.buffer?.length ?? 0) + chunk.length;
    if (size > this.maxBufferSize) {
      this.clear();
      throw new Error(`ReadBuffer exceeded maximum size of ${this.maxBufferSize} bytes`);
    }
    this.buffer = this.buffer?.length ? Buffer.concat([this.buffer, chunk]) : chunk;
  }

  readMessage(): JSONRPCMessage | null {
    const buf = this.buffer;
    if (!buf) return null;
    const nl = buf.indexOf(10);
    if (nl === -1) return null;
    const end = nl > 0 && buf[nl - 1] === 13 ? nl - 1 : nl;
    const line = buf.toString("utf8", 0, end);
    this.buffer = nl + 1 < buf.length ? buf.subarray(nl + 1) : undefined;
    const value: unknown = JSON.parse(line);
    if (this.isOurResponse(value)) return value;
    return JSONRPCMessageSchema.parse(value);
  }

  clear(): void {
    this.buffer = undefined;
  }

  /** A response (result or well-formed error, no other keys: the schema is strict) to a pending direct call. */
  private isOurResponse(v: unknown): v is JSONRPCMessage {
    if (!isRecord(v) || v.jsonrpc !== "2.0" || "method" in v) return false;
    if (typeof v.id !== "string" || !this.ours(v.id)) return false;
    for (const k in v) if (k !== "jsonrpc" && k !== "id" && k !== "result" && k !== "error") return false;
    if ("result" in v) return !("error" in v) && isRecord(v.result);
    const err = v.error;
    return isRecord(err) && Number.isInteger(err.code) && typeof err.message === "string";
  }
}

interface Pending {
  resolve(result: CallToolResult): void;
  reject(error: unknown): void;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A batching writer on the stdin of a stdio client transport's child (the SDK's `_process`, looked
 * up at each write: gone once the child closed); undefined for any other transport. The SDK's own
 * messages (handshake, lists, answers to the upstream's requests) still go through its `send`;
 * JSON-RPC does not order independent messages, and each call's cancellation follows its request
 * through the same writer.
 */
function stdinWriter(transport: Transport, busy: () => boolean): LineWriter | undefined {
  const holder = transport as unknown as { _process?: { stdin?: Writable | null } };
  if (!holder._process?.stdin) return undefined;
  return new LineWriter(() => holder._process?.stdin ?? undefined, busy);
}

export class DirectToolCalls {
  private readonly transport: Transport;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private closed = false;
  /** Our own messages onto the upstream's stdin, batched per turn (stdio transports only). */
  private readonly writer: LineWriter | undefined;

  /** Attach after the client connected: its handlers are wrapped, not replaced. */
  constructor(transport: Transport) {
    this.transport = transport;
    this.installFraming(transport);
    this.writer = stdinWriter(transport, () => this.pending.size > 1);
    const inner = transport.onmessage;
    transport.onmessage = (message: JSONRPCMessage, extra) => {
      const id = (message as { id?: unknown }).id;
      if (typeof id === "string" && !("method" in message)) {
        const waiter = this.pending.get(id);
        if (waiter) {
          this.pending.delete(id);
          this.settle(waiter, message);
          return;
        }
      }
      inner?.(message, extra);
    };
    const innerClose = transport.onclose;
    transport.onclose = () => {
      this.closed = true;
      const error = new McpError(ErrorCode.ConnectionClosed, "Connection closed");
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
      innerClose?.();
    };
  }

  /**
   * Replaces the stdio client transport's read buffer with `DirectFraming` when the transport has
   * one (the SDK's `_readBuffer`, consulted on every stdout chunk); any other transport is left as
   * it is. Bytes already buffered are carried over.
   */
  private installFraming(transport: Transport): void {
    const holder = transport as unknown as { _readBuffer?: Partial<LineReader> & { _buffer?: Buffer } };
    const current = holder._readBuffer;
    if (!current || typeof current.readMessage !== "function" || typeof current.append !== "function") return;
    const framing = new DirectFraming((id) => this.pending.has(id));
    if (current._buffer?.length) framing.append(current._buffer);
    holder._readBuffer = framing;
  }

  /** One of our messages to the upstream: through the batching writer when there is one. */
  private send(message: JSONRPCMessage): Promise<void> {
    return this.writer ? this.writer.write(`${JSON.stringify(message)}\n`) : this.transport.send(message);
  }

  private settle(waiter: Pending, message: JSONRPCMessage): void {
    if ("error" in message) {
      const { code, message: text, data } = message.error;
      waiter.reject(McpError.fromError(code, text, data));
      return;
    }
    const result = (message as { result?: unknown }).result;
    // A result the schema would return unchanged: text blocks only, optional boolean isError.
    if (isTextOnlyResult(result)) {
      waiter.resolve(result);
      return;
    }
    const parsed = CallToolResultSchema.safeParse(result);
    if (parsed.success) waiter.resolve(parsed.data);
    else waiter.reject(parsed.error);
  }

  /**
   * One `tools/call`; `params` as the SDK client would send them. `abort` is the call's signal or,
   * from `Upstream`, its `CallAbort` (a callback, no event listener).
   */
  call(params: Record<string, unknown>, abort: Abortable): Promise<CallToolResult> {
    if (this.closed) return Promise.reject(new McpError(ErrorCode.ConnectionClosed, "Connection closed"));
    if (abort.aborted) return Promise.reject(abort.reason);
    const id = `portcullis-${++this.seq}`;
    return new Promise<CallToolResult>((resolve, reject) => {
      const done = onAbort(abort, (reason) => {
        if (!this.pending.delete(id)) return;
        this.send({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: id, reason: String(reason) },
        }).catch(() => {});
        reject(this.abortError(reason));
      });
      this.pending.set(id, {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.send({ jsonrpc: "2.0", id, method: "tools/call", params }).catch((e: unknown) => {
        if (this.pending.delete(id)) {
          done();
          reject(e);
        }
      });
    });
  }

  private abortError(reason: unknown): McpError {
    return reason instanceof McpError ? reason : new McpError(ErrorCode.RequestTimeout, String(reason));
  }
}
