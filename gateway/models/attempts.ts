/**
 * The attempt loop shared by non-streamed and streamed calls: walks the planned targets, skips
 * those whose breaker is open, asks `admit` (policy + redaction) for each, sends with retries per
 * the provider's `retry` config and a per-attempt deadline (the policy's `timeout_ms` obligation;
 * the adapter enforces the provider's own timeouts), and moves on to the next target on failures that allow it. It
 * returns the first success together with the attempt's abort controller — a stream keeps using
 * it — and throws one `ModelCallError` that says why nothing succeeded: denied by policy (403),
 * every breaker open (503), or the last provider failure (429 / 502 / 504).
 */

import type { Usage } from "../../adapters/models/types.js";
import { errorMessage, PortcullisError } from "../errors.js";
import type { Reason } from "../pipeline/context.js";
import type { CircuitBreaker } from "./breaker.js";
import { classifyFailure, ModelCallError, mayRetry, retryDelay } from "./failures.js";
import type { Admitted, CallHooks, PlannedTarget } from "./router-types.js";
import type { RandomSource } from "./strategies.js";

/** What happened on one target (for audit and metrics). */
export interface AttemptReport {
  target: PlannedTarget;
  status: "ok" | "error" | "denied" | "unavailable" | "cancelled" | "timeout";
  /** Requests sent to this target (retries included). */
  sends: number;
  ms: number;
  error?: unknown;
  reasons?: Reason[];
  firstTokenMs?: number;
  usage?: Usage;
}

/** What the attempt loop needs from the router. */
export interface AttemptEnv {
  breaker(key: string): CircuitBreaker;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random: RandomSource;
  maxRetryAfterMs: number;
}

/** The first success: its value, where it came from and the controller that aborts it. */
export interface Won<T> {
  value: T;
  target: PlannedTarget;
  admitted: Admitted;
  sends: number;
  startedAt: number;
  /** Aborts the upstream request (stream cancelled) and clears its deadline. */
  dispose(reason?: unknown): void;
}

export type Send<T> = (t: PlannedTarget, a: Admitted, signal: AbortSignal, startedAt: number) => Promise<T>;

/** An abort controller bound to the caller's signal and to a deadline. */
function attemptSignal(caller: AbortSignal, timeoutMs: number | undefined) {
  const ctl = new AbortController();
  let timedOut = false;
  const onAbort = () => ctl.abort(caller.reason);
  caller.addEventListener("abort", onAbort, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          ctl.abort(new ModelCallError("GW_ERR_TIMEOUT", 504, `no answer within ${timeoutMs} ms`));
        }, timeoutMs);
  return {
    signal: ctl.signal,
    timedOut: () => timedOut,
    dispose(reason?: unknown) {
      if (timer) clearTimeout(timer);
      caller.removeEventListener("abort", onAbort);
      if (!ctl.signal.aborted) ctl.abort(reason ?? new Error("attempt finished"));
    },
  };
}

function finalError(
  last: unknown,
  denials: Reason[],
  retryInMs: number | undefined,
  plan: readonly PlannedTarget[],
) {
  const route = plan[0]?.route.id ?? "?";
  if (last !== undefined) {
    // The adapters' own errors (ProviderError, UnsupportedFeatureError, …) already say it right.
    if (last instanceof PortcullisError) return last;
    const f = classifyFailure(last);
    const [code, status] =
      f.kind === "rate_limited"
        ? (["GW_ERR_LIMIT", 429] as const)
        : f.kind === "timeout"
          ? (["GW_ERR_TIMEOUT", 504] as const)
          : f.kind === "rejected"
            ? (["GW_ERR_USAGE", 400] as const)
            : (["GW_ERR_UPSTREAM", 502] as const);
    return new ModelCallError(code, status, `model call failed on route '${route}': ${errorMessage(last)}`, {
      cause: last,
      ...(f.retryAfterMs !== undefined ? { details: { retryAfterMs: f.retryAfterMs } } : {}),
    });
  }
  if (denials.length > 0)
    return new ModelCallError(
      "GW_ERR_POLICY",
      403,
      `the policy allows no target of route '${route}': ${denials.map((r) => r.code).join(", ")}`,
      { details: { reasons: denials } },
    );
  return new ModelCallError(
    "GW_ERR_UPSTREAM_UNAVAILABLE",
    503,
    `every target of route '${route}' is failing: circuit breaker open; retry in ${retryInMs ?? 0} ms`,
    { details: { retryAfterMs: retryInMs ?? 0 } },
  );
}

export async function runAttempts<T>(
  env: AttemptEnv,
  plan: readonly PlannedTarget[],
  hooks: CallHooks,
  caller: AbortSignal,
  send: Send<T>,
): Promise<Won<T>> {
  const denials: Reason[] = [];
  let last: unknown;
  let retryInMs: number | undefined;
  for (const t of plan) {
    if (caller.aborted) throw caller.reason;
    const breaker = env.breaker(t.key);
    const gate = breaker.acquire();
    if (!gate.ok) {
      retryInMs = Math.min(retryInMs ?? gate.retryInMs, gate.retryInMs);
      hooks.report?.({ target: t, status: "unavailable", sends: 0, ms: 0 });
      continue;
    }
    let admission: Awaited<ReturnType<CallHooks["admit"]>>;
    try {
      admission = await hooks.admit(t);
    } catch (e) {
      breaker.release();
      throw e;
    }
    if ("denied" in admission) {
      breaker.release();
      for (const r of admission.denied) if (!denials.some((d) => d.code === r.code)) denials.push(r);
      hooks.report?.({ target: t, status: "denied", sends: 0, ms: 0, reasons: admission.denied });
      continue;
    }
    const startedAt = performance.now();
    // The adapter enforces the provider's own timeouts; this is the policy's `timeout_ms` obligation.
    const timeoutMs = admission.timeoutMs;
    for (let sends = 1; ; sends++) {
      const attempt = attemptSignal(caller, timeoutMs);
      const sentAt = performance.now();
      try {
        const value = await send(t, admission, attempt.signal, sentAt).finally(() =>
          hooks.sent?.(performance.now() - sentAt),
        );
        breaker.success();
        return { value, target: t, admitted: admission, sends, startedAt, dispose: attempt.dispose };
      } catch (thrown) {
        const e = attempt.timedOut() ? attempt.signal.reason : thrown;
        attempt.dispose();
        const ms = performance.now() - startedAt;
        if (caller.aborted) {
          breaker.release();
          hooks.report?.({ target: t, status: "cancelled", sends, ms, error: e });
          throw caller.reason;
        }
        const f = classifyFailure(e);
        if (f.unhealthy) breaker.failure();
        else breaker.success(); // it answered: the request, not the target, was the problem
        last = e;
        const delay = mayRetry(f, t.provider.config, sends)
          ? retryDelay(f, t.provider.config, sends, env.maxRetryAfterMs, env.random)
          : undefined;
        if (delay !== undefined && breaker.acquire().ok) {
          try {
            await env.sleep(delay, caller);
            continue;
          } catch {
            breaker.release();
            hooks.report?.({ target: t, status: "cancelled", sends, ms, error: e });
            throw caller.reason;
          }
        }
        hooks.report?.({
          target: t,
          status: f.kind === "timeout" ? "timeout" : "error",
          sends,
          ms,
          error: e,
        });
        if (!f.fallback) throw finalError(e, [], undefined, plan);
        break;
      }
    }
  }
  throw finalError(last, denials, retryInMs, plan);
}
