/**
 * The life of one upstream HTTP call: an abort controller fed by the client's signal and by the
 * call's own deadlines (the cause is kept, so a timeout is told apart from a client going away),
 * an idle watch that does not count time the consumer holds an event, and bounded body reads.
 */
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import { ProviderError } from "./errors.js";

/** One upstream call: its abort controller, its deadline, and why it was aborted (if it was). */
export class Call {
  readonly controller = new AbortController();
  cause: unknown;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly cleanups: (() => void)[] = [];
  private readonly onClientAbort = () => this.abort(this.client.reason ?? new Error("the client went away"));

  constructor(
    private readonly client: AbortSignal,
    requestMs: number,
    provider: string,
  ) {
    if (client.aborted) this.abort(client.reason);
    else client.addEventListener("abort", this.onClientAbort, { once: true });
    this.after(
      requestMs,
      () =>
        new ProviderError("timeout", `${provider}: no complete answer within ${requestMs} ms`, { provider }),
    );
  }

  /** Aborts with `make()` after `ms` unless cleared. */
  after(ms: number, make: () => unknown): NodeJS.Timeout {
    const timer = setTimeout(() => this.abort(make()), ms);
    this.timers.push(timer);
    return timer;
  }

  onFinish(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  abort(cause: unknown): void {
    if (this.cause === undefined) this.cause = cause;
    this.controller.abort(cause);
  }

  finish(): void {
    for (const t of this.timers) clearTimeout(t);
    for (const c of this.cleanups) c();
    this.client.removeEventListener("abort", this.onClientAbort);
  }
}

/** Calls `onIdle` when no data arrived for `ms`, not counting time the consumer holds an event. */
export class IdleWatch {
  /** Set while the consumer holds an event (the stream is paused on purpose). */
  holding = false;
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {
    this.arm(ms);
  }

  touch(): void {
    this.last = performance.now();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => this.check(), delay);
  }

  private check(): void {
    const quiet = performance.now() - this.last;
    if (this.holding) this.arm(this.ms);
    else if (quiet >= this.ms) this.onIdle();
    else this.arm(this.ms - quiet);
  }
}

export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export async function readLimited(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new ProviderError("protocol_error", `the answer exceeds ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
