/**
 * The order in which a route's targets are tried, by strategy: `single` (its one target),
 * `priority` and `fallback` (as written), `weighted` (a weighted draw without replacement, so the
 * first pick follows the weights and the rest remain as fallbacks), `round_robin` (rotating per
 * route) and `least_latency` (unmeasured targets first — exploration — then by ascending EWMA,
 * with an occasional random promotion so a target that was slow once gets measured again). The
 * route's `fallbacks` always follow, in order. Pure: randomness and latency come in as arguments.
 */
import type { Route, RouteTarget } from "../../contracts/index.js";
import type { LatencyTracker } from "./latency.js";

/** A source of uniform numbers in [0, 1). */
export type RandomSource = () => number;

export interface OrderingState {
  random: RandomSource;
  latency: LatencyTracker;
  /** Round-robin position per route id. */
  cursor: Map<string, number>;
  /** Weight of a target when the route gives none (its provider's weight), default 1. */
  defaultWeight(target: RouteTarget): number;
  /** Chance that least_latency promotes a random measured target to the front. */
  explore?: number;
}

/** The key a target's breaker and latency are kept under. */
export function targetKey(t: RouteTarget): string {
  return `${t.provider}/${t.model}`;
}

/** Reproducible weighted draws in tests and benches. */
export { seededRandom } from "../random.js";

function weightedOrder(targets: readonly RouteTarget[], s: OrderingState): RouteTarget[] {
  const pool = targets.map((t) => ({ t, w: Math.max(0, t.weight ?? s.defaultWeight(t)) }));
  const out: RouteTarget[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, p) => sum + p.w, 0);
    // Weight-0 targets are never drawn first; they stay as the last fallbacks, in order.
    if (total === 0) {
      out.push(...pool.map((p) => p.t));
      break;
    }
    let r = s.random() * total;
    let i = 0;
    for (; i < pool.length - 1; i++) {
      r -= pool[i]!.w;
      if (r < 0 && pool[i]!.w > 0) break;
    }
    while (pool[i]!.w === 0) i--;
    out.push(pool[i]!.t);
    pool.splice(i, 1);
  }
  return out;
}

function leastLatencyOrder(targets: readonly RouteTarget[], s: OrderingState): RouteTarget[] {
  const unmeasured = targets.filter((t) => s.latency.estimate(targetKey(t)) === undefined);
  const measured = targets
    .filter((t) => s.latency.estimate(targetKey(t)) !== undefined)
    .map((t, i) => ({ t, i, ms: s.latency.estimate(targetKey(t))! }))
    .sort((a, b) => a.ms - b.ms || a.i - b.i)
    .map((m) => m.t);
  if (unmeasured.length === 0 && measured.length > 1 && s.random() < (s.explore ?? 0.05)) {
    const pick = 1 + Math.floor(s.random() * (measured.length - 1));
    measured.unshift(...measured.splice(pick, 1));
  }
  return [...unmeasured, ...measured];
}

/** The targets of a route in the order they are tried, fallbacks last. */
export function orderTargets(route: Route, s: OrderingState): RouteTarget[] {
  const targets = route.targets;
  let primary: RouteTarget[];
  switch (route.strategy) {
    case "single":
    case "priority":
    case "fallback":
      primary = [...targets];
      break;
    case "weighted":
      primary = weightedOrder(targets, s);
      break;
    case "round_robin": {
      const at = s.cursor.get(route.id) ?? 0;
      s.cursor.set(route.id, (at + 1) % targets.length);
      primary = [...targets.slice(at), ...targets.slice(0, at)];
      break;
    }
    case "least_latency":
      primary = leastLatencyOrder(targets, s);
      break;
  }
  return [...primary, ...(route.fallbacks ?? [])];
}
