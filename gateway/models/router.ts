/**
 * The model router: a requested model name (an alias) and the caller pick the first route whose
 * `match` holds; the route's strategy orders its targets (strategies.ts) and the fallbacks follow.
 * `complete` and `stream` walk that order through the attempt loop (attempts.ts): targets whose
 * breaker is open are passed over (a single-target route fails fast with a clear 503), the
 * caller's `admit` hook decides each target (policy and redaction, per target; a denial skips
 * it), failures are retried with backoff per the provider's `retry` config, then the next target
 * is tried. A stream falls back only before its first token (stream.ts). Time, randomness and
 * sleeping are injected so all of it is unit-tested without waiting.
 */
import type { ChatResponse, ChatStreamEvent, ProviderTarget } from "../../adapters/models/types.js";
import type { Route } from "../../contracts/index.js";
import { type Clock, systemClock } from "../clock.js";
import { type AttemptEnv, runAttempts } from "./attempts.js";
import { type BreakerOptions, CircuitBreaker } from "./breaker.js";
import { ModelCallError } from "./failures.js";
import { LatencyTracker } from "./latency.js";
import type { CallHooks, PlannedTarget, RoutedProvider, RouteQuery } from "./router-types.js";
import { orderTargets, type RandomSource, targetKey } from "./strategies.js";
import { streamAttempts } from "./stream.js";

export interface RouterOptions {
  providers: readonly RoutedProvider[];
  routes: readonly Route[];
  breaker: BreakerOptions;
  maxRetryAfterMs: number;
  latencyAlpha: number;
  clock?: Clock;
  random?: RandomSource;
  /** Waits `ms` unless the signal aborts first (tests pass one that records instead). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function matchesModel(patterns: readonly string[], model: string): boolean {
  return patterns.some((p) => (p.endsWith("*") ? model.startsWith(p.slice(0, -1)) : p === model));
}

/** Whether a route's match holds for a query (all present criteria; `{}` matches everything). */
export function routeMatches(route: Route, q: RouteQuery): boolean {
  const m = route.match;
  if (m.models && !matchesModel(m.models, q.model)) return false;
  if (m.principals && !m.principals.includes(q.principal.id)) return false;
  if (m.roles && !m.roles.some((r) => q.principal.roles.includes(r))) return false;
  if (m.data_classes && !m.data_classes.some((c) => q.dataClasses.includes(c))) return false;
  return true;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done, fail) => {
    if (signal.aborted) return fail(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      fail(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      done();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export class ModelRouter {
  readonly providers: ReadonlyMap<string, RoutedProvider>;
  readonly routes: readonly Route[];
  readonly latency: LatencyTracker;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly cursor = new Map<string, number>();
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly env: AttemptEnv;

  constructor(private readonly opts: RouterOptions) {
    this.providers = new Map(opts.providers.map((p) => [p.config.id, p]));
    this.routes = opts.routes;
    this.latency = new LatencyTracker(opts.latencyAlpha);
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.env = {
      breaker: (k) => this.breaker(k),
      sleep: opts.sleep ?? abortableSleep,
      random: this.random,
      maxRetryAfterMs: opts.maxRetryAfterMs,
    };
  }

  /** The breaker of a target (created closed on first use). */
  breaker(key: string): CircuitBreaker {
    let b = this.breakers.get(key);
    if (!b) {
      b = new CircuitBreaker(this.opts.breaker, this.clock);
      this.breakers.set(key, b);
    }
    return b;
  }

  /** The route serving a query, or undefined. */
  route(q: RouteQuery): Route | undefined {
    return this.routes.find((r) => routeMatches(r, q));
  }

  /** The targets of the matching route in the order they will be tried; throws when none matches. */
  plan(q: RouteQuery): PlannedTarget[] {
    const route = this.route(q);
    if (!route)
      throw new ModelCallError(
        "GW_ERR_NOT_FOUND",
        404,
        `no route serves model '${q.model}' for this caller`,
        {
          details: { reasons: [{ code: "NO_MODEL_ROUTE", message: `No route matches model '${q.model}'` }] },
        },
      );
    const primary = new Set(route.targets);
    return orderTargets(route, {
      random: this.random,
      latency: this.latency,
      cursor: this.cursor,
      defaultWeight: (t) => this.providers.get(t.provider)?.config.weight ?? 1,
    }).map((target) => {
      const provider = this.providers.get(target.provider);
      if (!provider)
        throw new ModelCallError("GW_ERR_CONFIG", 500, `route '${route.id}' names unknown provider`);
      return { route, target, provider, key: targetKey(target), fallback: !primary.has(target) };
    });
  }

  /** A non-streamed call over the planned targets. */
  async complete(
    plan: readonly PlannedTarget[],
    hooks: CallHooks,
    signal: AbortSignal,
  ): Promise<ChatResponse> {
    const won = await runAttempts(this.env, plan, hooks, signal, (t, a, s) =>
      t.provider.adapter.complete(a.request, providerTarget(t), { signal: s }),
    );
    won.dispose();
    const ms = performance.now() - won.startedAt;
    this.latency.observe(won.target.key, ms);
    const res = won.value;
    hooks.report?.({
      target: won.target,
      status: "ok",
      sends: won.sends,
      ms,
      ...(res.usage ? { usage: res.usage } : {}),
    });
    return won.admitted.restore ? won.admitted.restore(res) : res;
  }

  /**
   * A streamed call: the neutral events of the first target that produced a token. Failures
   * before that move on to the next target; after it they end the stream with an `error` event.
   */
  stream(
    plan: readonly PlannedTarget[],
    hooks: CallHooks,
    signal: AbortSignal,
  ): AsyncGenerator<ChatStreamEvent> {
    return streamAttempts(this.env, this.latency, plan, hooks, signal);
  }
}

/** Where one attempt goes, in the adapter's terms. */
export function providerTarget(t: PlannedTarget): ProviderTarget {
  return {
    provider: t.provider.config,
    model: t.target.model,
    ...(t.provider.credential !== undefined ? { credential: t.provider.credential } : {}),
  };
}
