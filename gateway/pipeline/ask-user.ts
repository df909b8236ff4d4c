/**
 * Stage 4, ask_user: when the policy asks for the person's approval, the answer is looked up first
 * (an approval is bound to principal, tool and argument digest, and expires); otherwise the person
 * is asked through the client — an `elicitation/create` form for 2025-era clients that declared
 * elicitation — and the answer is stored. 2026-era clients get an input-required result from their
 * transport (the stage leaves a pending approval for it). Clients that can do neither get a denial
 * naming the approval that is needed.
 */
import type { ElicitRequest } from "@modelcontextprotocol/sdk/types.js";
import { callTarget } from "./audit.js";
import type { ApprovalPort, CallContext, Decision, EventPort, Next, Reason, Stage } from "./context.js";

export interface AskUserOptions {
  approvals: ApprovalPort;
  events?: EventPort;
  /** Approval lifetime when the policy gives none. */
  defaultTtlS?: number;
}

/** The elicitation form shown to the person. */
export function approvalForm(prompt: string): ElicitRequest["params"] {
  return {
    mode: "form",
    message: prompt,
    requestedSchema: {
      type: "object",
      properties: { approve: { type: "boolean", title: "Approve this call", default: false } },
      required: ["approve"],
    },
  };
}

/** Whether an elicitation answer grants the approval. */
export function isApproval(answer: {
  action: string;
  content?: Record<string, unknown> | undefined;
}): boolean {
  return answer.action === "accept" && answer.content?.approve === true;
}

function withOutcome(d: Decision, decision: "allow" | "deny", reason: Reason): Decision {
  return { ...d, decision, reasons: [...d.reasons, reason] };
}

export function askUser(opts: AskUserOptions): Stage {
  return function askUserStage(ctx, next) {
    return ctx.decision!.decision === "ask_user" ? ask(opts, ctx, next) : next();
  };
}

/** The ask_user decision: a prior answer, else the person asked through the client. */
async function ask(opts: AskUserOptions, ctx: CallContext, next: Next): Promise<void> {
  const d = ctx.decision!;
  const binding = { principal: ctx.principal!.id, tool: ctx.name, args_digest: ctx.argsDigest! };
  const prior = await opts.approvals.check(binding);
  if (prior === "granted") {
    ctx.decision = withOutcome(d, "allow", { code: "APPROVAL_GRANTED", message: "approved by the user" });
    return next();
  }
  if (prior === "denied") {
    ctx.decision = withOutcome(d, "deny", {
      code: "APPROVAL_DENIED",
      message: "the user declined this call",
    });
    return next();
  }
  const prompt = d.ask?.prompt ?? `Allow ${ctx.principal!.id} to call ${ctx.name}?`;
  const ttl_s = d.ask?.ttl_s ?? opts.defaultTtlS ?? 300;
  const client = ctx.client;
  const canElicit = client?.era === "2025-11-25" && Boolean(client.capabilities.elicitation && client.elicit);
  const canInputRequired = client?.era === "2026-07-28" && Boolean(client.capabilities.elicitation);
  if (!canElicit && !canInputRequired) {
    ctx.decision = withOutcome(d, "deny", {
      code: "APPROVAL_UNAVAILABLE",
      message: `this call needs the user's approval ("${prompt}") but the client cannot ask for it`,
    });
    return next();
  }
  const request = await opts.approvals.request({ ...binding, prompt, ttl_s });
  publish(opts, ctx, "approval.requested", {
    approval_id: request.id,
    ...callTarget(ctx),
    expires_at: request.expires_at,
  });
  if (canInputRequired) {
    ctx.pendingApproval = { id: request.id, prompt, form: approvalForm(prompt) };
    ctx.status = "pending_approval";
    return next();
  }
  let granted = false;
  try {
    granted = isApproval(await client!.elicit!(approvalForm(prompt), ctx.signal));
  } catch {
    granted = false;
  }
  await opts.approvals.resolve(request.id, granted, ctx.principal!.id);
  // The grant admits this call: consume it now (a one-shot grant must not admit a later call).
  if (granted) granted = (await opts.approvals.check(binding)) === "granted";
  publish(opts, ctx, "approval.resolved", { approval_id: request.id, granted, by: ctx.principal!.id });
  ctx.decision = granted
    ? withOutcome(d, "allow", { code: "APPROVAL_GRANTED", message: "approved by the user" })
    : withOutcome(d, "deny", { code: "APPROVAL_DENIED", message: "the user declined this call" });
  return next();
}

function publish(opts: AskUserOptions, ctx: CallContext, kind: string, data: Record<string, unknown>): void {
  if (!ctx.session || !opts.events) return;
  try {
    opts.events.publish(ctx.session, kind, data);
  } catch (e) {
    process.emitWarning(`session event ${kind} not published: ${e instanceof Error ? e.message : String(e)}`);
  }
}
