/**
 * Stage 5, execute: dispatches an allowed call to its source (upstream MCP server or built-in) with
 * the call's signal, progress relay and client channel, and the policy's timeout obligation. A
 * denied call never reaches a source: tools get a result with `isError: true` whose structured
 * content carries the decision and reason codes; prompts and resources, which have no error
 * result, raise `PolicyDeniedError` for the transport to turn into a JSON-RPC error.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { PortcullisError } from "../errors.js";
import { type AbortState, isTaskHandle, type SourceCallOptions } from "../registry/source.js";
import type { CallContext, Decision, Stage } from "./context.js";

/** A prompt or resource read the policy refused. */
export class PolicyDeniedError extends PortcullisError {
  readonly decision: Decision;
  constructor(name: string, decision: Decision) {
    super("GW_ERR_POLICY", `denied by policy: ${name} (${decision.reasons.map((r) => r.code).join(", ")})`, {
      details: { decision: decision.decision, reasons: decision.reasons },
    });
    this.name = "PolicyDeniedError";
    this.decision = decision;
  }
}

/** The tool result of a denied call. */
export function denialResult(name: string, decision: Decision): CallToolResult {
  const reasons = decision.reasons.map((r) => ({ code: r.code, message: r.message }));
  const text = [
    `Portcullis denied the call to ${name}.`,
    ...reasons.map((r) => `${r.code}: ${r.message}`),
  ].join("\n");
  return {
    content: [{ type: "text", text }],
    structuredContent: { decision: "deny", reasons },
    isError: true,
  };
}

/**
 * What a source is called with. `signal` is the call's, made on first read: a source that takes
 * the abort state (`abort`) registers a callback and no signal is made. Under the policy's timeout
 * obligation the signal is the call's bounded by the timeout, and there is no `abort`.
 */
class CallOptions implements SourceCallOptions {
  declare abort?: AbortState;
  declare onProgress?: SourceCallOptions["onProgress"];
  declare client?: SourceCallOptions["client"];
  declare meta?: SourceCallOptions["meta"];
  private readonly ctx: CallContext;
  private readonly bounded: AbortSignal | undefined;

  constructor(ctx: CallContext) {
    this.ctx = ctx;
    const ms = ctx.decision?.obligations?.timeout_ms;
    this.bounded = ms ? AbortSignal.any([ctx.signal, AbortSignal.timeout(ms)]) : undefined;
    if (!ms && ctx.abort) this.abort = ctx.abort;
    if (ctx.onProgress) this.onProgress = ctx.onProgress;
    if (ctx.client) this.client = ctx.client;
    if (ctx.meta) this.meta = ctx.meta;
  }

  get signal(): AbortSignal {
    return this.bounded ?? this.ctx.signal;
  }
}

export function execute(): Stage {
  return async function executeStage(ctx, next) {
    if (ctx.status === "pending_approval") return next();
    const decision = ctx.decision!;
    if (decision.decision !== "allow") {
      ctx.status = "denied";
      if (ctx.action === "tools/call")
        ctx.outcome = { kind: "tool", result: denialResult(ctx.name, decision) };
      else throw new PolicyDeniedError(ctx.name, decision);
      return next();
    }
    const source = ctx.source!;
    const opts = new CallOptions(ctx);
    const started = performance.now();
    try {
      if (ctx.action === "tools/call") {
        const result = await source.callTool(ctx.sourceName!, ctx.arguments, opts);
        ctx.outcome = { kind: "tool", result };
        ctx.status = result.isError ? "error" : "ok";
        // A task handle the client adopts: the gateway tracks the task; its end is the outcome.
        if (ctx.client?.adoptTask && isTaskHandle(result))
          ctx.taskEnd = ctx.client.adoptTask(result, {
            callId: ctx.id,
            principal: ctx.principal!.id,
            tool: ctx.name,
            source,
          });
      } else if (ctx.action === "prompts/get") {
        const args = Object.fromEntries(Object.entries(ctx.arguments).map(([k, v]) => [k, String(v)]));
        ctx.outcome = { kind: "prompt", result: await source.getPrompt(ctx.sourceName!, args, opts) };
        ctx.status = "ok";
      } else {
        ctx.outcome = { kind: "resource", result: await source.readResource(ctx.sourceName!, opts) };
        ctx.status = "ok";
      }
    } finally {
      ctx.upstreamMs = performance.now() - started;
    }
    await next();
  };
}
