/**
 * The abort state of one upstream request: aborted by the caller's signal or by the upstream's
 * inactivity timeout. Its `AbortSignal` is made only when some code asks for one (the SDK's
 * request path, task polling, input rounds); a direct tool call (`direct-call.ts`) registers a
 * plain callback instead, so the common call allocates no AbortController and no event listener
 * of its own. Aborting is idempotent: the first reason wins, as with an AbortController.
 */
import type { AbortState } from "../../gateway/registry/source.js";

export class CallAbort {
  aborted = false;
  reason: unknown = undefined;
  private controller: AbortController | undefined;
  private callbacks: ((reason: unknown) => void)[] | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const callbacks = this.callbacks;
    this.callbacks = undefined;
    if (callbacks) for (const fn of callbacks) fn(reason);
  }

  /** A real AbortSignal mirroring this state (made on first use). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Calls `fn` once when aborted (not when already aborted); returns what unregisters it. */
  onAbort(fn: (reason: unknown) => void): () => void {
    if (this.aborted) return () => {};
    this.callbacks ??= [];
    this.callbacks.push(fn);
    return () => {
      const i = this.callbacks?.indexOf(fn) ?? -1;
      if (i >= 0) this.callbacks!.splice(i, 1);
    };
  }
}

/**
 * Request options whose `signal` is made on first read. A class with a prototype getter, because
 * an object literal with a getter per call is created on V8's slow path; spreading it drops
 * `signal`, so copy the fields by name.
 */
export class LazySignalOptions {
  readonly abort: CallAbort;
  readonly timeout: number;

  constructor(abort: CallAbort, timeout: number) {
    this.abort = abort;
    this.timeout = timeout;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }
}

/**
 * Something a request can be aborted by: a plain AbortSignal, or an abort state that takes
 * callbacks (a call's `CallAbort`, the pipeline's `AbortState`).
 */
export type Abortable = AbortSignal | Pick<AbortState, "aborted" | "reason" | "onAbort">;

/** Registers `fn` for the abort of `a`; returns what unregisters it. */
export function onAbort(a: Abortable, fn: (reason: unknown) => void): () => void {
  if (!(a instanceof AbortSignal)) return a.onAbort(fn);
  const listener = () => fn(a.reason);
  a.addEventListener("abort", listener, { once: true });
  return () => a.removeEventListener("abort", listener);
}
