/**
 * Stage 3, decide: builds the PolicyInput for the call (principal, target with annotations and pin
 * state, arguments, data classes found by the sanitizer, context from the host clock) and asks the
 * decision service. Any failure to decide is a deny with a registered reason code: fail closed.
 */
import { digest } from "../../native/index.js";
import type { CallContext, Decision, DecisionPort, PolicyInputDoc, ScanPort, Stage } from "./context.js";

export interface DecideOptions {
  decisions: DecisionPort;
  scan?: ScanPort;
  now?: () => Date;
}

export function policyInput(ctx: CallContext, scan: ScanPort | undefined, now: Date): PolicyInputDoc {
  const findings = scan ? scan(ctx.arguments) : [];
  return {
    v: 1,
    action: ctx.action,
    principal: ctx.principal!,
    target: ctx.target!,
    arguments: ctx.arguments,
    data_classes: [...new Set(findings.map((f) => f.class))].sort(),
    ...(findings.length
      ? { findings: findings.map((f) => ({ class: f.class, detector: f.detector, path: f.path ?? "" })) }
      : {}),
    context: {
      time: now.toISOString(),
      request_id: ctx.id,
      transport: ctx.transport,
      ...(ctx.session ? { session: ctx.session } : {}),
    },
  };
}

/**
 * The audit record's `context_hash`: the digest of the policy input with `arguments` replaced by
 * their digest (`args_digest`, computed once per call), so the arguments are canonicalised once
 * for hashing however large they are. It binds the same facts as a digest of the whole input.
 */
export function contextHash(input: PolicyInputDoc, argsDigest: string): string {
  return digest({ ...input, arguments: argsDigest });
}

/** Asks the service; a thrown error becomes a deny (the service itself should never throw). */
export async function decideSafely(decisions: DecisionPort, input: PolicyInputDoc): Promise<Decision> {
  try {
    return await decisions.decide(input);
  } catch (e) {
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
}

export function decide(opts: DecideOptions): Stage {
  const now = opts.now ?? (() => new Date());
  return async function decideStage(ctx, next) {
    ctx.argsDigest = digest(ctx.arguments);
    const started = performance.now();
    const input = policyInput(ctx, opts.scan, now());
    ctx.inputHash = contextHash(input, ctx.argsDigest);
    ctx.decision = await decideSafely(opts.decisions, input);
    ctx.policyMs = performance.now() - started;
    await next();
  };
}
