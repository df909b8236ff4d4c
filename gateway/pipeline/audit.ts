/**
 * Stage 6, audit, in two halves. `recordDecision` appends the decision record and waits until the
 * log has made it durable (per its sync mode) BEFORE execute runs, so nothing is acted on without a
 * trace; it also publishes `call.started`. `recordOutcome` wraps the whole pipeline and, in
 * `finally`, appends the outcome record for every call that has a decision record and publishes
 * `call.completed`. Arguments are stored as their digest plus a redacted copy per the policy's
 * obligations; when redaction is required but unavailable, only the digest is stored (fail closed).
 */
import { digest, sha256Hex } from "../../native/index.js";
import { errorMessage, isPortcullisError } from "../errors.js";
import { isTextOnlyResult } from "../registry/text-result.js";
import type { AuditPort, AuditRecord, CallContext, CallStatus, EventPort, Stage } from "./context.js";

export interface AuditOptions {
  audit: AuditPort;
  events?: EventPort;
  /** Redacts the given data classes out of a value (the native sanitizer). */
  redact?: (value: unknown, classes: string[]) => unknown;
}

function redactedArgs(opts: AuditOptions, ctx: CallContext): unknown {
  const ob = ctx.decision?.obligations;
  if (ob?.audit_level === "minimal") return undefined;
  const classes = ob?.redact ?? [];
  if (classes.length === 0) return ctx.arguments;
  return opts.redact ? opts.redact(ctx.arguments, classes) : undefined;
}

/**
 * The members both records of a call share. Nested objects the pipeline builds (principal,
 * target, outcome, timings) have their members in canonical order, so the log seals the record
 * with one JSON.stringify; the log orders the top level itself.
 */
function base(ctx: CallContext, kind: AuditRecord["kind"]): AuditRecord {
  const d = ctx.decision!;
  const record: AuditRecord = {
    v: 1,
    id: ctx.id,
    kind,
    principal: ctx.principal!,
    target: ctx.target!,
    args_digest: ctx.argsDigest!,
    decision: d.decision,
    reasons: d.reasons,
  };
  if (ctx.session) record.session = ctx.session;
  if (d.revision) record.policy_revision = d.revision;
  if (d.policy_hash) record.policy_hash = d.policy_hash;
  if (ctx.inputHash) record.context_hash = ctx.inputHash;
  return record;
}

export function recordDecision(opts: AuditOptions): Stage {
  return function recordDecisionStage(ctx, next) {
    const record = base(ctx, "decision");
    const args = redactedArgs(opts, ctx);
    if (args !== undefined) record.args_redacted = args;
    const recorded = () => {
      ctx.decisionRecorded = true;
      // Execution starts first: a source that writes its request synchronously (a ready stdio or
      // HTTP upstream) has it on its way while the event is stored. call.completed still follows.
      const executed = next();
      publish(opts, ctx, "call.started", {
        call_id: ctx.id,
        ...callTarget(ctx),
        decision: ctx.decision!.decision,
      });
      return executed;
    };
    // Written before returning where the sync mode allows: execution follows in the same turn.
    if (opts.audit.appendDecisionNow?.(record)) return recorded();
    return opts.audit.appendDecision(record).then(recorded);
  };
}

/** The status of a call that ended with an error. */
export function statusOfError(e: unknown, signal: { readonly aborted: boolean }): CallStatus {
  if (signal.aborted) return "cancelled";
  if (isPortcullisError(e) && e.code === "GW_ERR_TIMEOUT") return "timeout";
  if (isPortcullisError(e) && e.code === "GW_ERR_POLICY") return "denied";
  return "error";
}

export function recordOutcome(opts: AuditOptions): Stage {
  return async function recordOutcomeStage(ctx, next) {
    try {
      await next();
    } catch (e) {
      ctx.error = e;
      ctx.status = statusOfError(e, ctx.abort ?? ctx.signal);
      throw e;
    } finally {
      if (ctx.decisionRecorded && ctx.taskEnd && ctx.error === undefined) {
        // A task the client adopted: the outcome is how the task ends, recorded when it does.
        void ctx.taskEnd
          .then((end) => {
            ctx.status = end.status;
            if (end.result) ctx.outcome = { kind: "tool", result: end.result };
            if (end.error !== undefined) ctx.error = end.error;
            return writeOutcome(opts, ctx);
          })
          .catch((e: unknown) => process.emitWarning(`task outcome not recorded: ${errorMessage(e)}`));
      } else if (ctx.decisionRecorded) {
        const written = writeOutcome(opts, ctx);
        if (written) await written;
      }
    }
  };
}

/** Appends the outcome record and publishes call.completed; a promise only when the log needs one. */
function writeOutcome(opts: AuditOptions, ctx: CallContext): Promise<void> | undefined {
  const status = ctx.status ?? "error";
  const total_ms = ms(performance.now() - ctx.startedAt);
  const record = base(ctx, "outcome");
  // Built in canonical member order: error, result_digest, status.
  const outcome = {} as NonNullable<AuditRecord["outcome"]>;
  if (ctx.error !== undefined) outcome.error = errorOf(ctx.error);
  if (ctx.outcome) outcome.result_digest = resultDigest(ctx.outcome.result);
  outcome.status = status;
  record.outcome = outcome;
  record.timings = timingsOf(ctx, total_ms);
  const completed = () => {
    const event = () =>
      publish(opts, ctx, "call.completed", { call_id: ctx.id, ...callTarget(ctx), status, total_ms });
    if (ctx.afterReply) ctx.afterReply(event);
    else event();
  };
  if (opts.audit.appendWrittenNow) {
    opts.audit.appendWrittenNow(record);
    completed();
    return undefined;
  }
  return opts.audit.appendWritten(record).then(completed);
}

/**
 * The digest of a result. The usual tool result, text blocks only (`{content: [{type: "text",
 * text}], isError?}` and nothing else), has its canonical text written here directly; any other
 * value is canonicalised in full. Same digest either way (tested against `digest`).
 */
export function resultDigest(result: unknown): string {
  // Plain objects only: for-in and member reads then see exactly the own members canonicalize sees.
  if (!isTextOnlyResult(result) || Object.getPrototypeOf(result) !== Object.prototype) return digest(result);
  let text = '{"content":[';
  for (let i = 0; i < result.content.length; i++) {
    const b = result.content[i] as { text: string };
    if (Object.getPrototypeOf(b) !== Object.prototype) return digest(result);
    text += `${i > 0 ? "," : ""}{"text":${JSON.stringify(b.text)},"type":"text"}`;
  }
  text += "]";
  if (result.isError !== undefined) text += `,"isError":${result.isError}`;
  return sha256Hex(`${text}}`);
}

/** Milliseconds to the microsecond: what a timing can honestly claim, and a short number to write. */
function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The outcome record's timings, to the microsecond, in canonical member order. */
function timingsOf(ctx: CallContext, total: number): NonNullable<AuditRecord["timings"]> {
  const timings = {} as NonNullable<AuditRecord["timings"]>;
  if (ctx.policyMs !== undefined) timings.policy_ms = ms(ctx.policyMs);
  timings.total_ms = total;
  if (ctx.upstreamMs !== undefined) timings.upstream_ms = ms(ctx.upstreamMs);
  return timings;
}

function errorOf(e: unknown): { code: string; message: string } {
  const rpc = (e as { code?: unknown } | null)?.code;
  const code = isPortcullisError(e) ? e.code : typeof rpc === "number" ? `JSONRPC_${rpc}` : "GW_ERR_INTERNAL";
  return { code, message: errorMessage(e).slice(0, 4096) };
}

const TARGET_KIND = { "tools/call": "tool", "prompts/get": "prompt", "resources/read": "resource" } as const;

/**
 * What a call event names: the contract's `tool` (the tool name; for a prompt or resource the
 * MCP method, since a prompt name or URI need not be a tool name) plus `target_kind` and `target`
 * (the tool or prompt name, or the resource URI).
 */
export function callTarget(ctx: Pick<CallContext, "action" | "name">): {
  tool: string;
  target_kind: "tool" | "prompt" | "resource";
  target: string;
} {
  const kind = TARGET_KIND[ctx.action];
  return { tool: kind === "tool" ? ctx.name : ctx.action, target_kind: kind, target: ctx.name };
}

/** Publishes a session event of the call; a failing bus never fails a call. */
function publish(opts: AuditOptions, ctx: CallContext, kind: string, data: Record<string, unknown>): void {
  if (!ctx.session || !opts.events) return;
  try {
    opts.events.publish(ctx.session, kind, data);
  } catch (e) {
    process.emitWarning(`session event ${kind} not published: ${errorMessage(e)}`);
  }
}
