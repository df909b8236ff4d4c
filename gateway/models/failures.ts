/**
 * How the router reads a failed attempt. Provider adapters throw errors carrying `kind`, `status`,
 * `retryAfterMs` and `retriable` (adapters/models/errors.ts); this module reads those fields
 * structurally and decides three things: may the same target be retried (per the provider's
 * `retry` config), may the next target be tried (not when the request itself was refused as
 * malformed — every target would refuse it), and does it count against the target's breaker. It
 * also computes the wait before a retry: exponential backoff with jitter, or the provider's
 * Retry-After when it sent one — and no retry at all when that is longer than the configured cap.
 * `ModelCallError` is the router's own error, with the HTTP status and stable code the client sees.
 */

import { modelErrorBody as providerErrorBody } from "../../adapters/models/errors.js";
import type { ModelErrorBody } from "../../adapters/models/types.js";
import type { ProviderConfig } from "../../contracts/index.js";
import { type ErrorCode, PortcullisError } from "../errors.js";

export type FailureKind =
  | "connect_error"
  | "timeout"
  | "rate_limited"
  | "server_error"
  | "protocol_error"
  | "stream_cut"
  | "unsupported"
  | "rejected"
  | "other";

export interface Failure {
  kind: FailureKind;
  status?: number;
  retryAfterMs?: number;
  /** The provider said (or the kind implies) the same request may succeed later. */
  retriable: boolean;
  /** Another target may be tried. */
  fallback: boolean;
  /** Counts as a failure of the target's health (breaker). */
  unhealthy: boolean;
}

const RETRY_KINDS = new Set<string>(["connect_error", "timeout", "rate_limited", "server_error"]);
const BROKEN_KINDS = new Set<string>([
  "connect_error",
  "timeout",
  "server_error",
  "protocol_error",
  "stream_cut",
]);

function kindOf(o: Record<string, unknown>, status: number | undefined): FailureKind {
  if (o.code === "GW_ERR_MODEL_REQUEST") return "rejected";
  if (o.code === "GW_ERR_MODEL_UNSUPPORTED") return "unsupported";
  if (o.code === "GW_ERR_TIMEOUT") return "timeout";
  if (typeof o.kind === "string" && (RETRY_KINDS.has(o.kind) || BROKEN_KINDS.has(o.kind)))
    return o.kind as FailureKind;
  if (status === 429) return "rate_limited";
  if (status !== undefined && status >= 500) return "server_error";
  if (status === 400 || status === 422) return "rejected";
  return "other";
}

/** Reads what an adapter threw (ProviderError and friends, structurally). */
export function classifyFailure(e: unknown): Failure {
  const o = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
  const status = typeof o.status === "number" ? o.status : undefined;
  const retryAfterMs = typeof o.retryAfterMs === "number" && o.retryAfterMs >= 0 ? o.retryAfterMs : undefined;
  const kind = kindOf(o, status);
  const retriable =
    typeof o.retriable === "boolean" ? o.retriable && RETRY_KINDS.has(kind) : RETRY_KINDS.has(kind);
  return {
    kind,
    ...(status !== undefined ? { status } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    retriable,
    // A malformed request would be refused by every target; anything else may work elsewhere.
    fallback: kind !== "rejected",
    // A 429 is a quota talking, not a sick target: Retry-After paces it, the breaker stays out.
    unhealthy: BROKEN_KINDS.has(kind),
  };
}

/** Whether the provider's retry config lets this failure be retried on attempt `attempt` (1-based). */
export function mayRetry(f: Failure, provider: ProviderConfig, attempt: number): boolean {
  const retry = provider.retry;
  if (!retry || attempt >= retry.max_attempts || !f.retriable) return false;
  const on = retry.retry_on ?? ["connect_error", "timeout", "rate_limited", "server_error"];
  return (on as string[]).includes(f.kind);
}

/**
 * Milliseconds to wait before retry number `attempt` (1-based), or undefined when the provider's
 * Retry-After exceeds `capMs` (the target is then left for the next one instead).
 */
export function retryDelay(
  f: Failure,
  provider: ProviderConfig,
  attempt: number,
  capMs: number,
  random: () => number,
): number | undefined {
  if (f.retryAfterMs !== undefined) return f.retryAfterMs > capMs ? undefined : f.retryAfterMs;
  const base = provider.retry?.backoff_ms ?? 0;
  const exp = base * 2 ** (attempt - 1);
  // Half fixed, half jitter: spreads retries of many callers without ever retrying at once.
  return Math.min(capMs, Math.round(exp / 2 + (random() * exp) / 2));
}

/** An error the model API answers with: a gateway code, the HTTP status and, for denials, reasons. */
export class ModelCallError extends PortcullisError {
  readonly status: number;
  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message, options);
    this.name = "ModelCallError";
    this.status = status;
  }
}

const WIRE_CODES: Partial<Record<ErrorCode, string>> = {
  GW_ERR_POLICY: "policy_denied",
  GW_ERR_NOT_FOUND: "model_not_found",
  GW_ERR_UPSTREAM_UNAVAILABLE: "unavailable",
  GW_ERR_TIMEOUT: "timeout",
  GW_ERR_LIMIT: "rate_limited",
  GW_ERR_USAGE: "invalid_request",
  GW_ERR_UPSTREAM: "provider_error",
};

/** The error as the client sees it in its own wire format (status, stable code, message). */
export function modelErrorBody(e: unknown): ModelErrorBody {
  if (e instanceof ModelCallError)
    return { code: WIRE_CODES[e.code] ?? "internal_error", message: e.message, status: e.status };
  return providerErrorBody(e);
}
