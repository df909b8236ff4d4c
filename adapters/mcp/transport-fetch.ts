/**
 * A `fetch` for the SDK's Streamable HTTP client transports that keeps their long-lived abort
 * signal at one listener. Both SDK transports pass one transport-wide `AbortSignal` to every POST;
 * node's fetch (undici) hangs an `abort` listener on it per request and removes it only when that
 * request's internal controller is garbage-collected, so a busy link piles up thousands of
 * listeners between major collections (and node prints `MaxListenersExceededWarning` past 1,500).
 * Here the transport's signal gets a single listener, and each request runs on a signal of its
 * own: the request's controller is held by its response and the response's body stream, so it
 * lives exactly as long as someone can still read the answer, and a `WeakRef` in the signal's set
 * lets the transport's abort reach every request still in flight. Abort semantics are the SDK's:
 * aborting the transport's signal aborts every pending request and every body being read.
 */

/** The request's own controller, kept alive by its response and body stream. */
const REQUEST_CONTROLLER = Symbol("portcullis.requestController");

/** Dead entries are swept once the set grows past this size (then past twice the live count). */
const FIRST_SWEEP = 64;

interface Linked {
  requests: Set<WeakRef<AbortController>>;
  sweepAt: number;
}

function sweep(linked: Linked): void {
  for (const ref of linked.requests) if (ref.deref() === undefined) linked.requests.delete(ref);
  linked.sweepAt = Math.max(FIRST_SWEEP, linked.requests.size * 2);
}

function hold(target: object, controller: AbortController): void {
  Object.defineProperty(target, REQUEST_CONTROLLER, { value: controller });
}

/** Wraps `base` (default: the global fetch); one wrapper per transport or shared, either works. */
export function transportFetch(base: typeof fetch = fetch): typeof fetch {
  const bySignal = new WeakMap<AbortSignal, Linked>();
  const link = (outer: AbortSignal): Linked => {
    let linked = bySignal.get(outer);
    if (linked) return linked;
    const created: Linked = { requests: new Set(), sweepAt: FIRST_SWEEP };
    linked = created;
    bySignal.set(outer, created);
    outer.addEventListener(
      "abort",
      () => {
        for (const ref of created.requests) ref.deref()?.abort(outer.reason);
        created.requests.clear();
      },
      { once: true },
    );
    return linked;
  };
  return async (input, init) => {
    const outer = init?.signal;
    if (!outer || outer.aborted) return base(input, init);
    const controller = new AbortController();
    const linked = link(outer);
    linked.requests.add(new WeakRef(controller));
    if (linked.requests.size > linked.sweepAt) sweep(linked);
    const response = await base(input, { ...init, signal: controller.signal });
    hold(response, controller);
    if (response.body) hold(response.body, controller);
    return response;
  };
}
