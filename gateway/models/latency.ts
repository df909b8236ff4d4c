/**
 * Latency estimates per route target for the least_latency strategy: an exponentially weighted
 * moving average of time to first token (streams) or of the whole call (non-streamed). A target
 * with no sample has no estimate, which the strategy treats as "try it next" (exploration).
 */

export class LatencyTracker {
  private readonly ewma = new Map<string, number>();

  /** `alpha` is the weight of the newest sample (0 < alpha ≤ 1). */
  constructor(private readonly alpha: number) {
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`latency alpha must be in (0, 1], got ${alpha}`);
  }

  observe(key: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const prev = this.ewma.get(key);
    this.ewma.set(key, prev === undefined ? ms : prev + this.alpha * (ms - prev));
  }

  /** The smoothed latency in ms, or undefined before the first sample. */
  estimate(key: string): number | undefined {
    return this.ewma.get(key);
  }
}
