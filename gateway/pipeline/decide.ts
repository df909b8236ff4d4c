/**
 * Stage 3, decide: builds the PolicyInput for the call (principal, target with annotations and pin
 * state, arguments, data classes found by the sanitizer, context from the host clock) and asks the
 * decision service. Any failure to decide is a deny with a registered reason code: fail closed.
 */
import { canonicalize, sha256Hex } from "../../native/index.js";
import { internText, memberValueText } from "../canonical-fragments.js";
import { isoNow, systemClock } from "../clock.js";
import type { CallContext, Decision, DecisionPort, PolicyInputDoc, ScanPort, Stage } from "./context.js";

export interface DecideOptions {
  decisions: DecisionPort;
  scan?: ScanPort;
  now?: () => Date;
}

/**
 * The PolicyInput of a call, its members (and the context's) in canonical order like the principal
 * and target the earlier stages build. `now` is the time, or its ISO text already made.
 */
export function policyInput(
  ctx: CallContext,
  scan: ScanPort | undefined,
  now: Date | string,
): PolicyInputDoc {
  const findings = scan ? scan(ctx.arguments) : [];
  const time = typeof now === "string" ? now : now.toISOString();
  const context: PolicyInputDoc["context"] = ctx.session
    ? { request_id: ctx.id, session: ctx.session, time, transport: ctx.transport }
    : { request_id: ctx.id, time, transport: ctx.transport };
  if (findings.length === 0) {
    return {
      action: ctx.action,
      arguments: ctx.arguments,
      context,
      data_classes: [],
      principal: ctx.principal!,
      target: ctx.target!,
      v: 1,
    };
  }
  return {
    action: ctx.action,
    arguments: ctx.arguments,
    context,
    data_classes: [...new Set(findings.map((f) => f.class))].sort(),
    findings: findings.map((f) => ({ class: f.class, detector: f.detector, path: f.path ?? "" })),
    principal: ctx.principal!,
    target: ctx.target!,
    v: 1,
  };
}

/**
 * The audit record's `context_hash`: the digest of the policy input with `arguments` replaced by
 * their digest (`args_digest`, computed once per call), so the arguments are canonicalised once
 * for hashing however large they are. It binds the same facts as a digest of the whole input.
 */
export function contextHash(input: PolicyInputDoc, argsDigest: string): string {
  // The contract's members (a strict object) written in canonical order; the interned principal
  // and target keep their canonical text (gateway/canonical-fragments.ts).
  const c = input.context;
  let text = `{"action":${JSON.stringify(input.action)},"arguments":${JSON.stringify(argsDigest)},"context":{"request_id":${JSON.stringify(c.request_id)},`;
  if (c.session !== undefined) text += `"session":${JSON.stringify(c.session)},`;
  text += `"time":${JSON.stringify(c.time)},"transport":${JSON.stringify(c.transport)}},"data_classes":${memberValueText(input.data_classes)},`;
  if (input.findings !== undefined) text += `"findings":${memberValueText(input.findings)},`;
  return sha256Hex(
    `${text}"principal":${memberValueText(input.principal)},"target":${memberValueText(input.target)},"v":${memberValueText(input.v)}}`,
  );
}

/** The fail-closed decision for a service that threw or rejected. */
function policyError(e: unknown): Decision {
  return {
    decision: "deny",
    reasons: [
      {
        code: "POLICY_ERROR",
        message: `the policy could not decide: ${e instanceof Error ? e.message : String(e)}`,
      },
    ],
  };
}

/**
 * Asks a service that decides synchronously; a thrown error becomes a deny. Undefined when the
 * service has no synchronous form.
 */
export function decideNowSafely(decisions: DecisionPort, input: PolicyInputDoc): Decision | undefined {
  if (!decisions.decideSync) return undefined;
  try {
    return decisions.decideSync(input);
  } catch (e) {
    return policyError(e);
  }
}

/** Asks the service; a thrown error becomes a deny (the service itself should never throw). */
export function decideSafely(decisions: DecisionPort, input: PolicyInputDoc): Promise<Decision> {
  try {
    return decisions.decide(input).then(undefined, policyError);
  } catch (e) {
    return Promise.resolve(policyError(e));
  }
}

export function decide(opts: DecideOptions): Stage {
  // The host clock's time as text, made once per millisecond (isoNow) unless a clock is given.
  const now: () => Date | string = opts.now ?? (() => isoNow(systemClock));
  return function decideStage(ctx, next) {
    // Canonicalised once: the digest, and the decision record's copy of the arguments (interned,
    // so frozen from here on) reuse this text.
    const argsText = canonicalize(ctx.arguments);
    ctx.argsDigest = sha256Hex(argsText);
    internText(ctx.arguments, argsText);
    const started = performance.now();
    const input = policyInput(ctx, opts.scan, now());
    ctx.inputHash = contextHash(input, ctx.argsDigest);
    const decided = (decision: Decision) => {
      ctx.decision = decision;
      ctx.policyMs = performance.now() - started;
      return next();
    };
    const sync = decideNowSafely(opts.decisions, input);
    return sync ? decided(sync) : decideSafely(opts.decisions, input).then(decided);
  };
}
