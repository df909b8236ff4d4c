/**
 * Per-principal rate limits as token buckets (config `limits.rate: {perMinute, burst}`): each
 * principal's bucket holds at most `burst` tokens and refills at `perMinute` per minute; every
 * call-like action (tools/call, prompts/get, resources/read, model/call) takes one token before
 * the policy is asked. An empty bucket is a deny decision with the registered reason
 * `RATE_LIMITED`, so the pipeline audits and answers it like any other denial. Listings are not
 * counted. Buckets live in memory, bounded (least recently used principals forgotten, which only
 * ever refills their bucket early); shared limits across instances need the Redis store.
 */
import type { Decision, DecisionPort, PolicyInputDoc } from "../pipeline/context.js";

export interface RateLimitOptions {
  perMinute: number;
  burst: number;
  /** Milliseconds clock (tests); default Date.now. */
  now?: () => number;
  /** Principals remembered at most; default 100,000. */
  maxPrincipals?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBucketLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #max: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(o: RateLimitOptions) {
    if (!(o.perMinute > 0) || !(o.burst >= 1)) throw new RangeError("perMinute must be > 0 and burst >= 1");
    this.#perMs = o.perMinute / 60_000;
    this.#burst = o.burst;
    this.#now = o.now ?? Date.now;
    this.#max = o.maxPrincipals ?? 100_000;
  }

  /** Takes one token for `key`; when none is left, says how long until one is. */
  take(key: string): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.#now();
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    b.tokens = Math.min(this.#burst, b.tokens + Math.max(0, now - b.at) * this.#perMs);
    b.at = now;
    this.#buckets.delete(key);
    this.#buckets.set(key, b);
    if (this.#buckets.size > this.#max) this.#buckets.delete(this.#buckets.keys().next().value as string);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) / this.#perMs) };
  }
}

const COUNTED = new Set(["tools/call", "prompts/get", "resources/read", "model/call"]);

/** The decision port with the limiter in front: a breach is a deny with RATE_LIMITED. */
export function rateLimitedDecisions(port: DecisionPort, limiter: TokenBucketLimiter): DecisionPort {
  return {
    async decide(input: PolicyInputDoc): Promise<Decision> {
      if (COUNTED.has(input.action)) {
        const r = limiter.take(input.principal.id);
        if (!r.ok)
          return {
            decision: "deny",
            reasons: [
              {
                code: "RATE_LIMITED",
                message: `rate limit exceeded for '${input.principal.id}'; retry in ${Math.ceil(r.retryAfterMs / 1000)} s`,
              },
            ],
            obligations: {},
          };
      }
      return port.decide(input);
    },
  };
}
