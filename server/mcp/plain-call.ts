/**
 * The fast path of a 2025-era session: a "plain" `tools/call` — no progress token, no task, a
 * client that declared neither elicitation nor sampling, well-formed params — is answered by our
 * own code instead of the SDK's per-request machinery (request schema parse, handler wrapper,
 * result schema parse, abort bookkeeping). It runs the session's own `tools/call` handler, so the
 * pipeline, channel and error mapping are the ones every other call uses; only the envelope is
 * ours. The answer is a JSON-RPC response message the transport writes (stdio) or returns as a
 * JSON body (HTTP). Everything else keeps the SDK path.
 */
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  type CallToolRequest,
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  type JSONRPCMessage,
  type ServerNotification,
  type ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { CallAbort } from "../../adapters/mcp/call-abort.js";
import type { Principal } from "../../gateway/pipeline/context.js";
import { isTextOnlyResult } from "../../gateway/registry/text-result.js";

export type RequestId = string | number;

/** A `tools/call` message the fast path accepts (see `isPlainToolCall`). */
export interface PlainToolCall {
  jsonrpc: "2.0";
  id: RequestId;
  method: "tools/call";
  params: { name: string; arguments?: Record<string, unknown>; _meta?: Record<string, unknown> };
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * The handler's `extra` for a plain call: the fields the session's handler reads, with `signal`
 * made from the call's abort state only when read, and `abort`, which the session passes to the
 * pipeline instead (so a call that is never cancelled makes no AbortController).
 */
class PlainExtra {
  readonly abort: CallAbort;
  readonly requestId: RequestId;
  readonly sessionId = undefined;
  declare authInfo?: Extra["authInfo"];
  readonly sendNotification: PlainCallOptions["notify"];
  readonly afterReply: PlainCallOptions["afterReply"];

  constructor(abort: CallAbort, id: RequestId, opts: PlainCallOptions) {
    this.abort = abort;
    this.requestId = id;
    this.sendNotification = opts.notify;
    this.afterReply = opts.afterReply;
    if (opts.principal)
      this.authInfo = {
        token: opts.token ?? "",
        clientId: opts.principal.id,
        scopes: opts.principal.roles,
        extra: { principal: opts.principal },
      };
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }
}

/** The session's `tools/call` handler (the one the SDK server runs too). */
export type ToolCallHandler = (req: CallToolRequest, extra: Extra) => Promise<CallToolResult>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A tools/call that can produce no request of its own and carries no progress token or task, with
 * params the SDK's request schema would accept as they are. `caps` are the client's declared
 * capabilities (undefined before initialize: not plain, the SDK decides what to do).
 */
export function isPlainToolCall(
  message: unknown,
  caps: { elicitation?: unknown; sampling?: unknown; [capability: string]: unknown } | undefined,
): message is PlainToolCall {
  if (!caps || caps.elicitation || caps.sampling) return false;
  const m = message as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  if (m.method !== "tools/call" || m.jsonrpc !== "2.0") return false;
  if (typeof m.id !== "string" && (typeof m.id !== "number" || !Number.isInteger(m.id))) return false;
  const p = m.params;
  if (!isPlainObject(p) || typeof p.name !== "string" || "task" in p) return false;
  if (p.arguments !== undefined && !isPlainObject(p.arguments)) return false;
  const meta = p._meta;
  if (meta !== undefined && (!isPlainObject(meta) || "progressToken" in meta)) return false;
  return true;
}

/** The JSON-RPC error the SDK would send for a handler's error. */
function errorResponse(id: RequestId, e: unknown): JSONRPCMessage {
  const err = e as { code?: unknown; message?: unknown; data?: unknown } | null;
  const code = Number.isSafeInteger(err?.code) ? (err!.code as number) : ErrorCode.InternalError;
  const message = typeof err?.message === "string" ? err.message : "Internal error";
  return {
    jsonrpc: "2.0",
    id,
    error: { code, message, ...(err?.data !== undefined ? { data: err.data } : {}) },
  };
}

export interface PlainCallOptions {
  /** The principal the transport authenticated (HTTP); stdio sessions authenticate in the pipeline. */
  principal?: Principal;
  /** Bearer token of the request (kept in the handler's authInfo as the SDK would). */
  token?: string;
  /** Sends a notification related to the call (upstream logs): stdout, or the HTTP GET stream. */
  notify(n: ServerNotification): Promise<void>;
  /**
   * Takes work nobody waits on, which the transport runs after writing the reply (see
   * `AfterReply`); without it that work runs before the answer resolves.
   */
  afterReply?: (task: () => void) => void;
}

/**
 * The work a call hands over to run after its reply was written (`afterReply`): collected while
 * the call runs, run once by the transport right after it wrote the reply (or gave up on it). A
 * task added after that runs at once. A throwing task is reported as a warning and the rest run.
 */
export class AfterReply {
  private tasks: (() => void)[] | undefined = [];

  readonly add = (task: () => void): void => {
    if (this.tasks) this.tasks.push(task);
    else AfterReply.runOne(task);
  };

  run(): void {
    const tasks = this.tasks;
    this.tasks = undefined;
    if (tasks) for (const task of tasks) AfterReply.runOne(task);
  }

  private static runOne(task: () => void): void {
    try {
      task();
    } catch (e) {
      process.emitWarning(`work after a reply failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** Plain calls of one session: answer them and cancel them by request id. */
export class PlainCalls {
  private readonly handler: ToolCallHandler;
  private readonly inFlight = new Map<RequestId, CallAbort>();

  constructor(handler: ToolCallHandler) {
    this.handler = handler;
  }

  /** How many calls are being answered here. */
  get running(): number {
    return this.inFlight.size;
  }

  /** Whether a request with this id is being answered here. */
  has(id: RequestId): boolean {
    return this.inFlight.has(id);
  }

  /**
   * Aborts an in-flight plain call (`notifications/cancelled`); false when the id is not ours.
   * Like the SDK, a cancelled request gets no response.
   */
  cancel(id: RequestId, reason: unknown): boolean {
    const ctl = this.inFlight.get(id);
    if (!ctl) return false;
    ctl.abort(reason);
    return true;
  }

  /** Aborts every in-flight call (the session closed). */
  cancelAll(reason: unknown): void {
    for (const ctl of this.inFlight.values()) ctl.abort(reason);
  }

  /** Runs the call; resolves with its response, or undefined when it was cancelled. */
  async answer(msg: PlainToolCall, opts: PlainCallOptions): Promise<JSONRPCMessage | undefined> {
    const ctl = new CallAbort();
    this.inFlight.set(msg.id, ctl);
    // The session's handler reads only these fields (requests go through its server).
    const extra = new PlainExtra(ctl, msg.id, opts) as unknown as Extra;
    try {
      const result = await this.handler(msg as CallToolRequest, extra);
      if (ctl.aborted) return undefined;
      if (isTextOnlyResult(result)) return { jsonrpc: "2.0", id: msg.id, result };
      const parsed = CallToolResultSchema.safeParse(result);
      if (!parsed.success)
        return errorResponse(msg.id, {
          code: ErrorCode.InvalidParams,
          message: `MCP error ${ErrorCode.InvalidParams}: Invalid tools/call result: ${parsed.error.message}`,
        });
      return { jsonrpc: "2.0", id: msg.id, result: parsed.data };
    } catch (e) {
      return ctl.aborted ? undefined : errorResponse(msg.id, e);
    } finally {
      if (this.inFlight.get(msg.id) === ctl) this.inFlight.delete(msg.id);
    }
  }
}
