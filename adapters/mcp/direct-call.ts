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
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  type JSONRPCMessage,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";

interface Pending {
  resolve(result: CallToolResult): void;
  reject(error: unknown): void;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A result the schema would return unchanged: text blocks only, optional boolean isError. */
function isTextResult(r: unknown): r is CallToolResult {
  if (!isRecord(r) || !Array.isArray(r.content)) return false;
  for (const k in r) if (k !== "content" && k !== "isError") return false;
  if (r.isError !== undefined && typeof r.isError !== "boolean") return false;
  for (const b of r.content) {
    if (!isRecord(b) || b.type !== "text" || typeof b.text !== "string") return false;
    for (const k in b) if (k !== "type" && k !== "text") return false;
  }
  return true;
}

export class DirectToolCalls {
  private readonly transport: Transport;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private closed = false;

  /** Attach after the client connected: its handlers are wrapped, not replaced. */
  constructor(transport: Transport) {
    this.transport = transport;
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

  private settle(waiter: Pending, message: JSONRPCMessage): void {
    if ("error" in message) {
      const { code, message: text, data } = message.error;
      waiter.reject(McpError.fromError(code, text, data));
      return;
    }
    const result = (message as { result?: unknown }).result;
    if (isTextResult(result)) {
      waiter.resolve(result);
      return;
    }
    const parsed = CallToolResultSchema.safeParse(result);
    if (parsed.success) waiter.resolve(parsed.data);
    else waiter.reject(parsed.error);
  }

  /** One `tools/call`; `params` as the SDK client would send them. */
  call(params: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    if (this.closed) return Promise.reject(new McpError(ErrorCode.ConnectionClosed, "Connection closed"));
    if (signal.aborted) return Promise.reject(signal.reason);
    const id = `portcullis-${++this.seq}`;
    return new Promise<CallToolResult>((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        this.transport
          .send({
            jsonrpc: "2.0",
            method: "notifications/cancelled",
            params: { requestId: id, reason: String(signal.reason) },
          })
          .catch(() => {});
        reject(this.abortError(signal.reason));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const done = () => signal.removeEventListener("abort", onAbort);
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
      this.transport.send({ jsonrpc: "2.0", id, method: "tools/call", params }).catch((e: unknown) => {
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
