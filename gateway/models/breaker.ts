/**
 * A circuit breaker per route target (provider + model). Closed: calls pass and consecutive
 * failures are counted; at the threshold it opens and refuses calls for a cool-down; after it, one
 * probe is let through (half-open) while every other call is still refused; the probe's success
 * closes the breaker, its failure opens it for another cool-down. A probe that ended without a
 * verdict (the client went away) frees the slot for the next probe. Time comes from the gateway
 * clock, so tests move it instead of sleeping.
 */
import type { Clock } from "../clock.js";

export type BreakerState = "closed" | "open" | "half_open";

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failures: number;
  /** How long an open breaker refuses calls before it lets one probe through. */
  cooldownMs: number;
}

/** What `acquire` says: go (maybe as the half-open probe), or wait this long. */
export type Admission = { ok: true; probe: boolean } | { ok: false; retryInMs: number };

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private stateNow: BreakerState = "closed";
  private probing = false;

  constructor(
    private readonly opts: BreakerOptions,
    private readonly clock: Clock,
  ) {}

  /** The state as of now (an open breaker past its cool-down reads half_open). */
  get state(): BreakerState {
    if (this.stateNow === "open" && this.elapsed() >= this.opts.cooldownMs) return "half_open";
    return this.stateNow;
  }

  /** Whether a call may go out now; a granted half-open probe must end in success, failure or release. */
  acquire(): Admission {
    const state = this.state;
    if (state === "closed") return { ok: true, probe: false };
    if (state === "half_open" && !this.probing) {
      this.stateNow = "half_open";
      this.probing = true;
      return { ok: true, probe: true };
    }
    const left = this.opts.cooldownMs - this.elapsed();
    return { ok: false, retryInMs: Math.max(0, Math.ceil(left)) };
  }

  /** The call (or the probe) succeeded: closed, count reset. */
  success(): void {
    this.failures = 0;
    this.probing = false;
    this.stateNow = "closed";
  }

  /** The call failed in a way that says the target is unhealthy. */
  failure(): void {
    this.failures += 1;
    if (this.stateNow === "half_open" || this.failures >= this.opts.failures) {
      this.stateNow = "open";
      this.openedAt = this.clock.now().getTime();
      this.probing = false;
    }
  }

  /** The call ended without a verdict on the target (cancelled by the client). */
  release(): void {
    this.probing = false;
  }

  private elapsed(): number {
    return this.clock.now().getTime() - this.openedAt;
  }
}
