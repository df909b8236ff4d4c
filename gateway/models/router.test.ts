import { describe, expect, it } from "vitest";
import { ProviderError, type ProviderErrorKind } from "../../adapters/models/errors.js";
import type {
  ChatRequest,
  ChatResponse,
  ChatStreamEvent,
  ProviderAdapter,
} from "../../adapters/models/types.js";
import type { ProviderConfig, Route } from "../../contracts/index.js";
import { ManualClock } from "../clock.js";
import type { AttemptReport } from "./attempts.js";
import { CircuitBreaker } from "./breaker.js";
import { type ModelCallError, modelErrorBody } from "./failures.js";
import { LatencyTracker } from "./latency.js";
import { ModelRouter, routeMatches } from "./router.js";
import type { CallHooks } from "./router-types.js";
import { orderTargets, seededRandom } from "./strategies.js";

/** A scripted provider: each call takes the next step (an answer, a stream, or a failure). */
type Step = ChatResponse | ChatStreamEvent[] | { fail: Record<string, unknown> };

class ScriptedAdapter implements ProviderAdapter {
  readonly target;
  readonly calls: ChatRequest[] = [];
  readonly signals: AbortSignal[] = [];
  /** Streams whose generator ran its cleanup (finished, failed or returned). */
  closed = 0;
  constructor(
    provider: ProviderConfig,
    private readonly steps: Step[],
  ) {
    this.target = { provider };
  }
  private next(req: ChatRequest, signal: AbortSignal): Step {
    this.calls.push(req);
    this.signals.push(signal);
    const s = this.steps.shift();
    if (!s) throw Object.assign(new Error("script exhausted"), { kind: "server_error", status: 500 });
    if ("fail" in s) {
      const { kind, message = "failed", ...rest } = s.fail as { kind?: ProviderErrorKind; message?: string };
      if (kind) throw new ProviderError(kind, message, rest);
      throw Object.assign(new Error(message), rest);
    }
    return s;
  }
  async complete(req: ChatRequest, _t: unknown, o: { signal: AbortSignal }): Promise<ChatResponse> {
    return this.next(req, o.signal) as ChatResponse;
  }
  async *stream(req: ChatRequest, _t: unknown, o: { signal: AbortSignal }): AsyncGenerator<ChatStreamEvent> {
    const events = this.next(req, o.signal) as ChatStreamEvent[];
    try {
      for (const e of events) {
        if (o.signal.aborted) throw o.signal.reason;
        if (e.type === "error" && e.error.code === "THROW") throw new ProviderError("stream_cut", "cut");
        yield e;
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.closed++;
    }
  }
  async close() {}
}

function provider(id: string, extra: Partial<ProviderConfig> = {}): ProviderConfig {
  return { v: 1, id, kind: "openai", base_url: "http://127.0.0.1:1", models: ["m"], local: false, ...extra };
}

function route(strategy: Route["strategy"], ids: string[], extra: Partial<Route> = {}): Route {
  return {
    v: 1,
    id: "r",
    match: {},
    strategy,
    targets: ids.map((p) => ({ provider: p, model: "m" })),
    ...extra,
  };
}

const answer = (text: string): ChatResponse => ({
  id: "x",
  model: "m",
  content: [{ type: "text", text }],
  stop_reason: "end_turn",
  usage: { input_tokens: 3, output_tokens: 1 },
});

const streamOf = (...texts: string[]): ChatStreamEvent[] => [
  { type: "start", id: "s", model: "m" },
  { type: "part_start", index: 0, part: { type: "text" } },
  ...texts.map((text) => ({ type: "text_delta" as const, index: 0, text })),
  { type: "part_stop", index: 0 },
  { type: "finish", stop_reason: "end_turn" },
  { type: "done" },
];

const request: ChatRequest = {
  model: "alias",
  system: [],
  messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
  stream: false,
};

function setup(steps: Record<string, Step[]>, r: Route, extra: Partial<ProviderConfig> = {}) {
  const clock = new ManualClock();
  const sleeps: number[] = [];
  const adapters = Object.fromEntries(
    Object.entries(steps).map(([id, s]) => [id, new ScriptedAdapter(provider(id, extra), s)]),
  );
  const router = new ModelRouter({
    providers: Object.values(adapters).map((a) => ({ config: a.target.provider, adapter: a })),
    routes: [r],
    breaker: { failures: 2, cooldownMs: 1000 },
    maxRetryAfterMs: 5000,
    latencyAlpha: 0.5,
    clock,
    random: seededRandom(7),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  const reports: AttemptReport[] = [];
  const hooks: CallHooks = { admit: async () => ({ request }), report: (x) => reports.push(x) };
  return { router, adapters, clock, sleeps, reports, hooks };
}

const q = { model: "alias", principal: { id: "u", roles: ["dev"] }, dataClasses: [] };
const never = new AbortController().signal;

describe("route matching", () => {
  it("checks models (trailing * prefix), principals, roles and data classes", () => {
    const r = route("single", ["a"], {
      match: { models: ["gpt-*", "exact"], roles: ["dev"], data_classes: ["secret"] },
    });
    const base = { principal: { id: "u", roles: ["dev"] }, dataClasses: ["secret"] };
    expect(routeMatches(r, { ...base, model: "gpt-4o" })).toBe(true);
    expect(routeMatches(r, { ...base, model: "exact" })).toBe(true);
    expect(routeMatches(r, { ...base, model: "exactly" })).toBe(false);
    expect(routeMatches(r, { ...base, model: "gpt-4o", dataClasses: [] })).toBe(false);
    expect(routeMatches(r, { ...base, model: "gpt-4o", principal: { id: "u", roles: [] } })).toBe(false);
    const byPrincipal = route("single", ["a"], { match: { principals: ["alice"] } });
    expect(routeMatches(byPrincipal, { ...base, model: "x" })).toBe(false);
    expect(routeMatches(byPrincipal, { ...base, model: "x", principal: { id: "alice", roles: [] } })).toBe(
      true,
    );
  });

  it("throws a 404 ModelCallError naming the model when no route matches", () => {
    const { router } = setup({ a: [] }, route("single", ["a"], { match: { models: ["other"] } }));
    expect(() => router.plan(q)).toThrow(/no route serves model 'alias'/);
  });
});

describe("strategies", () => {
  const state = () => ({
    random: seededRandom(1),
    latency: new LatencyTracker(0.5),
    cursor: new Map<string, number>(),
    defaultWeight: () => 1,
    explore: 0,
  });

  it("weighted draws follow the weights and keep the others as fallbacks", () => {
    const r = route("weighted", ["a", "b"]);
    r.targets[0]!.weight = 9;
    r.targets[1]!.weight = 1;
    const s = state();
    const firsts = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 2000; i++) {
      const order = orderTargets(r, s);
      expect(order).toHaveLength(2);
      firsts[order[0]!.provider]! += 1;
    }
    expect(firsts.a! / 2000).toBeGreaterThan(0.85);
    expect(firsts.a! / 2000).toBeLessThan(0.95);
  });

  it("weight 0 is never drawn first", () => {
    const r = route("weighted", ["a", "b"]);
    r.targets[0]!.weight = 0;
    const s = state();
    for (let i = 0; i < 200; i++) expect(orderTargets(r, s)[0]!.provider).toBe("b");
  });

  it("round_robin rotates; fallbacks come last in order", () => {
    const r = route("round_robin", ["a", "b", "c"], { fallbacks: [{ provider: "z", model: "m" }] });
    const s = state();
    const firsts = [0, 1, 2, 3].map(() =>
      orderTargets(r, s)
        .map((t) => t.provider)
        .join(""),
    );
    expect(firsts).toEqual(["abcz", "bcaz", "cabz", "abcz"]);
  });

  it("least_latency tries unmeasured targets first, then the fastest", () => {
    const r = route("least_latency", ["a", "b", "c"]);
    const s = state();
    s.latency.observe("a/m", 50);
    expect(orderTargets(r, s).map((t) => t.provider)).toEqual(["b", "c", "a"]);
    s.latency.observe("b/m", 10);
    s.latency.observe("c/m", 30);
    expect(orderTargets(r, s).map((t) => t.provider)).toEqual(["b", "c", "a"]);
    s.latency.observe("b/m", 200); // EWMA 105
    expect(orderTargets(r, s).map((t) => t.provider)).toEqual(["c", "a", "b"]);
  });
});

describe("circuit breaker", () => {
  it("opens after N failures, lets one probe through after the cool-down, closes on success", () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker({ failures: 3, cooldownMs: 100 }, clock);
    for (let i = 0; i < 3; i++) {
      expect(b.acquire().ok).toBe(true);
      b.failure();
    }
    expect(b.state).toBe("open");
    expect(b.acquire()).toEqual({ ok: false, retryInMs: 100 });
    clock.advance(100);
    expect(b.acquire()).toEqual({ ok: true, probe: true });
    expect(b.acquire().ok).toBe(false); // one probe at a time
    b.failure();
    expect(b.state).toBe("open");
    clock.advance(100);
    expect(b.acquire()).toEqual({ ok: true, probe: true });
    b.success();
    expect(b.state).toBe("closed");
    expect(b.acquire()).toEqual({ ok: true, probe: false });
  });

  it("a released probe frees the slot", () => {
    const clock = new ManualClock();
    const b = new CircuitBreaker({ failures: 1, cooldownMs: 10 }, clock);
    b.failure();
    clock.advance(10);
    expect(b.acquire().ok).toBe(true);
    b.release();
    expect(b.acquire().ok).toBe(true);
  });
});

describe("ModelRouter.complete", () => {
  it("falls back to the next target after a server error and reports both", async () => {
    const { router, hooks, reports, adapters } = setup(
      { a: [{ fail: { kind: "server_error", status: 500 } }], b: [answer("from b")] },
      route("fallback", ["a", "b"]),
    );
    const res = await router.complete(router.plan(q), hooks, never);
    expect(res.content).toEqual([{ type: "text", text: "from b" }]);
    expect(reports.map((r) => [r.target.target.provider, r.status])).toEqual([
      ["a", "error"],
      ["b", "ok"],
    ]);
    expect(reports[1]!.usage).toEqual({ input_tokens: 3, output_tokens: 1 });
    expect(adapters.a!.calls).toHaveLength(1);
  });

  it("retries with exponential backoff per the provider's retry config, honouring Retry-After", async () => {
    const { router, hooks, sleeps, adapters } = setup(
      {
        a: [
          { fail: { kind: "server_error", status: 503 } },
          { fail: { kind: "rate_limited", status: 429, retryAfterMs: 1200 } },
          answer("third time"),
        ],
      },
      route("single", ["a"]),
      { retry: { max_attempts: 3, backoff_ms: 100 } },
    );
    const res = await router.complete(router.plan(q), hooks, never);
    expect(res.content[0]).toEqual({ type: "text", text: "third time" });
    expect(adapters.a!.calls).toHaveLength(3);
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBe(1200);
  });

  it("a Retry-After over the cap moves on instead of waiting; the last failure is a 429", async () => {
    const { router, hooks, sleeps } = setup(
      { a: [{ fail: { kind: "rate_limited", status: 429, retryAfterMs: 60_000 } }] },
      route("single", ["a"]),
      { retry: { max_attempts: 3, backoff_ms: 100 } },
    );
    const e = await router.complete(router.plan(q), hooks, never).catch((x: unknown) => x);
    expect(modelErrorBody(e)).toMatchObject({ code: "rate_limited", status: 429 });
    expect(sleeps).toEqual([]);
  });

  it("a request the provider rejects as malformed is not sent elsewhere", async () => {
    const { router, hooks, adapters } = setup(
      { a: [{ fail: { status: 400, message: "bad field" } }], b: [answer("no")] },
      route("fallback", ["a", "b"]),
    );
    const e = (await router
      .complete(router.plan(q), hooks, never)
      .catch((x: unknown) => x)) as ModelCallError;
    expect(e.status).toBe(400);
    expect(adapters.b!.calls).toHaveLength(0);
  });

  it("a denied target is skipped; all denied is a 403 with the reasons", async () => {
    const { router, adapters } = setup({ a: [answer("a")], b: [answer("b")] }, route("priority", ["a", "b"]));
    const deny = { denied: [{ code: "MODEL_NOT_ALLOWED", message: "no" }] };
    const res = await router.complete(
      router.plan(q),
      { admit: async (t) => (t.target.provider === "a" ? deny : { request }) },
      never,
    );
    expect(res.content[0]).toEqual({ type: "text", text: "b" });
    expect(adapters.a!.calls).toHaveLength(0);
    const e = (await router
      .complete(router.plan(q), { admit: async () => deny }, never)
      .catch((x: unknown) => x)) as ModelCallError;
    expect([e.status, e.code]).toEqual([403, "GW_ERR_POLICY"]);
    expect(e.details?.reasons).toEqual(deny.denied);
  });

  it("a single-target route fails fast while its breaker is open, probes after the cool-down", async () => {
    const fail = { fail: { kind: "connect_error" } };
    const { router, hooks, clock, adapters } = setup(
      { a: [fail, fail, answer("back")] },
      route("single", ["a"]),
    );
    for (let i = 0; i < 2; i++) await expect(router.complete(router.plan(q), hooks, never)).rejects.toThrow();
    const fast = (await router
      .complete(router.plan(q), hooks, never)
      .catch((x: unknown) => x)) as ModelCallError;
    expect([fast.status, fast.code]).toEqual([503, "GW_ERR_UPSTREAM_UNAVAILABLE"]);
    expect(fast.message).toMatch(/circuit breaker open; retry in 1000 ms/);
    expect(adapters.a!.calls).toHaveLength(2);
    clock.advance(1000);
    expect(router.breaker("a/m").state).toBe("half_open");
    const res = await router.complete(router.plan(q), hooks, never);
    expect(res.content[0]).toEqual({ type: "text", text: "back" });
    expect(router.breaker("a/m").state).toBe("closed");
  });

  it("times out an attempt after the policy's timeout obligation", async () => {
    const slow: ProviderAdapter = {
      target: { provider: provider("a") },
      complete: (_r, _t, o) =>
        new Promise((_, fail) => o.signal.addEventListener("abort", () => fail(o.signal.reason))),
      stream: () => {
        throw new Error("unused");
      },
      close: async () => {},
    };
    const router = new ModelRouter({
      providers: [{ config: provider("a"), adapter: slow }],
      routes: [route("single", ["a"])],
      breaker: { failures: 5, cooldownMs: 1000 },
      maxRetryAfterMs: 0,
      latencyAlpha: 0.5,
    });
    const e = (await router
      .complete(router.plan(q), { admit: async () => ({ request, timeoutMs: 20 }) }, never)
      .catch((x: unknown) => x)) as ModelCallError;
    expect([e.status, e.code]).toEqual([504, "GW_ERR_TIMEOUT"]);
  });
});

async function collect(gen: AsyncGenerator<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

const texts = (events: ChatStreamEvent[]) =>
  events.flatMap((e) =>
    e.type === "text_delta" ? [e.text] : e.type === "error" ? [`!${e.error.message}`] : [],
  );

describe("ModelRouter.stream", () => {
  it("falls back when the first target fails before its first token (error after a 200)", async () => {
    const early: ChatStreamEvent[] = [
      { type: "start", id: "s", model: "m" },
      { type: "error", error: { code: "overloaded", message: "busy", status: 529 } },
    ];
    const { router, hooks, reports } = setup(
      { a: [early], b: [streamOf("he", "llo")] },
      route("fallback", ["a", "b"]),
    );
    const events = await collect(router.stream(router.plan(q), hooks, never));
    expect(texts(events)).toEqual(["he", "llo"]);
    expect(events.filter((e) => e.type === "start")).toHaveLength(1);
    expect(reports.map((r) => r.status)).toEqual(["error", "ok"]);
  });

  it("a stream that ended with done still closes the provider's stream (its timers are cleared)", async () => {
    const { router, hooks, adapters } = setup({ a: [streamOf("he", "llo")] }, route("single", ["a"]));
    const events = await collect(router.stream(router.plan(q), hooks, never));
    expect(events.at(-1)!.type).toBe("done");
    expect(adapters.a!.closed).toBe(1);
  });

  it("after the first token a failure is one error event and the stream ends (no fallback)", async () => {
    const cut: ChatStreamEvent[] = [
      ...streamOf("par").slice(0, 3),
      { type: "error", error: { code: "THROW", message: "x", status: 500 } },
    ];
    const { router, hooks, adapters, reports } = setup(
      { a: [cut], b: [streamOf("never")] },
      route("fallback", ["a", "b"]),
    );
    const events = await collect(router.stream(router.plan(q), hooks, never));
    expect(texts(events)).toEqual(["par", "!cut"]);
    expect(events.at(-1)!.type).toBe("error");
    expect(adapters.b!.calls).toHaveLength(0);
    expect(reports.map((r) => r.status)).toEqual(["error"]);
  });

  it("ending the stream early aborts the upstream request", async () => {
    const { router, hooks, adapters, reports } = setup(
      { a: [streamOf("1", "2", "3", "4")] },
      route("single", ["a"]),
    );
    const gen = router.stream(router.plan(q), hooks, never);
    for await (const e of gen) if (e.type === "text_delta") break;
    expect(adapters.a!.signals[0]!.aborted).toBe(true);
    expect(reports.map((r) => r.status)).toEqual(["cancelled"]);
  });
});
