/**
 * Streamed calls. An attempt opens the provider's stream and reads until the first token: `start`
 * and `part_start` events are held, and the first content-bearing event commits the attempt —
 * only then does anything reach the client, so every failure before it (a refused request, an
 * error event after a 200, a stream that ends empty) is a failure of that target and the router
 * moves on. After the commit, events pass through the admission's restorer (reversible
 * placeholders) one by one; a failure becomes a single `error` event and the stream ends. Ending
 * the generator early (client gone) aborts the upstream request.
 */
import type { ChatStreamEvent, ModelErrorBody, Usage } from "../../adapters/models/types.js";
import { type AttemptEnv, runAttempts } from "./attempts.js";
import { ModelCallError, modelErrorBody } from "./failures.js";
import type { LatencyTracker } from "./latency.js";
import { providerTarget } from "./router.js";
import type { CallHooks, PlannedTarget } from "./router-types.js";

/** An `error` event a provider sent, as a failure the attempt loop can classify. */
class StreamErrorEvent extends ModelCallError {
  constructor(body: ModelErrorBody) {
    super(
      "GW_ERR_UPSTREAM",
      body.status >= 400 ? body.status : 502,
      `provider stream error: ${body.message}`,
      {
        details: { provider_code: body.code },
      },
    );
  }
}

interface Opened {
  it: AsyncIterator<ChatStreamEvent>;
  held: ChatStreamEvent[];
  firstTokenMs: number;
}

export async function* streamAttempts(
  env: AttemptEnv,
  latency: LatencyTracker,
  plan: readonly PlannedTarget[],
  hooks: CallHooks,
  signal: AbortSignal,
): AsyncGenerator<ChatStreamEvent> {
  const won = await runAttempts<Opened>(env, plan, hooks, signal, async (t, a, s, startedAt) => {
    const it = t.provider.adapter.stream(a.request, providerTarget(t), { signal: s })[Symbol.asyncIterator]();
    const held: ChatStreamEvent[] = [];
    try {
      for (;;) {
        const r = await it.next();
        if (r.done)
          throw new ModelCallError("GW_ERR_UPSTREAM", 502, "the provider's stream ended before any token");
        const ev = r.value;
        if (ev.type === "error") throw new StreamErrorEvent(ev.error);
        held.push(ev);
        if (ev.type !== "start" && ev.type !== "part_start")
          return { it, held, firstTokenMs: performance.now() - startedAt };
      }
    } catch (e) {
      await it.return?.().catch(() => {});
      throw e;
    }
  });
  const { it, held, firstTokenMs } = won.value;
  latency.observe(won.target.key, firstTokenMs);
  const restorer = won.admitted.restoreStream?.();
  const breaker = env.breaker(won.target.key);
  let usage: Usage | undefined;
  let status: "ok" | "error" | "cancelled" = "cancelled";
  let failure: unknown;
  const pass = (ev: ChatStreamEvent): ChatStreamEvent[] => {
    if (ev.type === "usage") usage = ev.usage;
    if (!restorer) return [ev];
    return ev.type === "error" || ev.type === "done" ? [...restorer.flush(), ev] : restorer.push(ev);
  };
  try {
    for (const ev of held) yield* pass(ev);
    for (;;) {
      let r: IteratorResult<ChatStreamEvent>;
      try {
        r = await it.next();
      } catch (e) {
        if (signal.aborted) throw e;
        failure = e;
        breaker.failure();
        status = "error";
        yield* pass({ type: "error", error: modelErrorBody(e) });
        return;
      }
      if (r.done) {
        if (restorer) yield* restorer.flush();
        status = "ok";
        return;
      }
      if (r.value.type === "error") {
        failure = new StreamErrorEvent(r.value.error);
        breaker.failure();
        status = "error";
        yield* pass(r.value);
        return;
      }
      yield* pass(r.value);
      if (r.value.type === "done") {
        status = "ok";
        return;
      }
    }
  } finally {
    won.dispose(status === "cancelled" ? new Error("client went away") : undefined);
    // Always close the provider's stream: after its terminal event it is suspended at that yield,
    // and only return() runs its cleanup (deadline and idle timers, the response body).
    await it.return?.().catch(() => {});
    hooks.report?.({
      target: won.target,
      status,
      sends: won.sends,
      ms: performance.now() - won.startedAt,
      firstTokenMs,
      ...(usage ? { usage } : {}),
      ...(failure !== undefined ? { error: failure } : {}),
    });
  }
}
