/**
 * Per-principal rate limits as token buckets (config `limits.rate: {perMinute, burst}`): each
 * principal's bucket holds at most `burst` tokens and refills at `perMinute` per minute; every
 * call-like action (tools/call, prompts/get, resources/read, model/call) takes one token before
 * the policy is asked. An empty bucket is a deny decision with the registered reason
 * `RATE_LIMITED`, so the pipeline audits and answers it like any other denial. Listings are not
 * counted. The buckets live in the shared store (gateway/store): in this process by default
 * (bounded, least recently used principals forgotten, which only ever refills a bucket early), or
 * in Redis with `--store`, where one atomic script per take makes the limit hold across every
 * instance. A store that cannot be reached denies with `STORE_UNAVAILABLE` — fail closed.
 */
import { isPortcullisError } from "../errors.js";
import type { Decision, DecisionPort, PolicyInputDoc } from "../pipeline/context.js";
import { MemoryStore } from "../store/memory.js";
import type { SharedStore, TokenTake } from "../store/types.js";

export interface RateLimitOptions {
  perMinute: number;
  burst: number;
  /** Where the buckets live (default: a private in-process store). */
  store?: SharedStore;
  /** Milliseconds clock of the default in-process store (tests); default Date.now. */
  now?: () => number;
  /** Principals remembered at most by the default in-process store; default 100,000. */
  maxPrincipals?: number;
}

export class TokenBucketLimiter {
  readonly #perMinute: number;
  readonly #burst: number;
  readonly #store: SharedStore;

  constructor(o: RateLimitOptions) {
    if (!(o.perMinute > 0) || !(o.burst >= 1)) throw new RangeError("perMinute must be > 0 and burst >= 1");
    this.#perMinute = o.perMinute;
    this.#burst = o.burst;
    const now = o.now;
    this.#store =
      o.store ??
      new MemoryStore({
        ...(now ? { clock: { now: () => new Date(now()) } } : {}),
        ...(o.maxPrincipals !== undefined ? { maxBuckets: o.maxPrincipals } : {}),
      });
  }

  /** Takes one token for `key`; when none is left, says how long until one is. */
  take(key: string): Promise<TokenTake> {
    return this.#store.takeToken(`rate:${key}`, this.#perMinute, this.#burst);
  }
}

const COUNTED = new Set(["tools/call", "prompts/get", "resources/read", "model/call"]);

function deny(code: string, message: string): Decision {
  return { decision: "deny", reasons: [{ code, message }], obligations: {} };
}

/** The decision port with the limiter in front: a breach is a deny with RATE_LIMITED. */
export function rateLimitedDecisions(port: DecisionPort, limiter: TokenBucketLimiter): DecisionPort {
  return {
    async decide(input: PolicyInputDoc): Promise<Decision> {
      if (COUNTED.has(input.action)) {
        let r: TokenTake;
        try {
          r = await limiter.take(input.principal.id);
        } catch (e) {
          if (isPortcullisError(e) && e.code === "GW_ERR_STORE_UNAVAILABLE")
            return deny("STORE_UNAVAILABLE", `rate limit cannot be checked: ${e.message}`);
          throw e;
        }
        if (!r.ok)
          return deny(
            "RATE_LIMITED",
            `rate limit exceeded for '${input.principal.id}'; retry in ${Math.ceil(r.retryAfterMs / 1000)} s`,
          );
      }
      return port.decide(input);
    },
  };
}

/**
 * The decision port guarded for shared state: while the store cannot be reached, an `ask_user`
 * decision (whose approval lives in the store) becomes a deny with `STORE_UNAVAILABLE` instead of
 * a call that fails half-way. Allow and deny decisions need no shared state and pass unchanged.
 */
export function storeGuardedDecisions(port: DecisionPort, store: SharedStore): DecisionPort {
  const guard = (d: Decision): Decision =>
    d.decision !== "ask_user" || store.available
      ? d
      : {
          ...d,
          decision: "deny",
          reasons: [
            ...d.reasons,
            { code: "STORE_UNAVAILABLE", message: "the shared store holding approvals cannot be reached" },
          ],
        };
  const inner = port.decideSync?.bind(port);
  return {
    async decide(input: PolicyInputDoc): Promise<Decision> {
      return guard(await port.decide(input));
    },
    ...(inner ? { decideSync: (input: PolicyInputDoc) => guard(inner(input)) } : {}),
  };
}
