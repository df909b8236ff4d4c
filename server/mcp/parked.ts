/**
 * Parked calls: how a 2026-era client answers what an upstream asks in the middle of a call — a
 * 2025 upstream's elicitation or sampling request, or a 2026 upstream's input-required round. The
 * 2026 era has no server-to-client requests, so the gateway keeps the call (and its single policy
 * decision) running, answers the client with an input-required result carrying the upstream's
 * requests (a 2026 upstream's keys unchanged), and parks the call under a key sealed into
 * `requestState`. The client's retry delivers its `inputResponses` to the waiting call, and the
 * retry's response is the call's next event: its result, or the next round.
 */
import { randomUUID } from "node:crypto";
import type { InputRequest } from "../../gateway/registry/source.js";

/** Requests waiting for the client's answers: one input-required round, keyed as the client sees it. */
export interface RelayedRequest {
  inputRequests: Record<string, InputRequest>;
  answer(responses: Record<string, unknown>): void;
  fail(error: Error): void;
}

/** The key of a single relayed request (a 2025 upstream's elicitation or sampling). */
export const RELAY_KEY = "portcullis_relay";

export type CallEvent =
  | { kind: "done"; result: unknown }
  | { kind: "failed"; error: unknown }
  | { kind: "ask"; request: RelayedRequest };

/** One in-flight call's events, consumed one at a time by successive HTTP requests. */
export class CallMailbox {
  private readonly events: CallEvent[] = [];

  /** The request that started the call (a tool call's failures become tool errors). */
  constructor(readonly kind: "tools/call" | "prompts/get" | "resources/read" = "tools/call") {}

  private waiter: ((e: CallEvent) => void) | undefined;

  push(e: CallEvent): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(e);
    } else this.events.push(e);
  }

  next(): Promise<CallEvent> {
    const e = this.events.shift();
    if (e) return Promise.resolve(e);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** One input-required round: the requests go to the client, the promise gets its answers. */
  requestInput(
    inputRequests: Record<string, InputRequest>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal?.reason ?? new Error("aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.push({
        kind: "ask",
        request: {
          inputRequests,
          answer: (r) => {
            signal?.removeEventListener("abort", onAbort);
            resolve(r);
          },
          fail: (err) => {
            signal?.removeEventListener("abort", onAbort);
            reject(err);
          },
        },
      });
    });
  }

  /** A channel method that relays one request (under RELAY_KEY) and waits for its answer. */
  async relay(
    method: "elicitation/create" | "sampling/createMessage",
    params: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    for (;;) {
      const answers = await this.requestInput({ [RELAY_KEY]: { method, params } }, signal);
      if (answers[RELAY_KEY] !== undefined) return answers[RELAY_KEY];
    }
  }
}

interface Parked {
  mailbox: CallMailbox;
  pending: RelayedRequest;
  principal: string;
  timer: NodeJS.Timeout;
  abort: AbortController;
}

/** Parked calls by key; an unanswered one is aborted after `ttlMs`. */
export class ParkedCalls {
  private readonly parked = new Map<string, Parked>();

  constructor(private readonly ttlMs = 5 * 60_000) {}

  park(mailbox: CallMailbox, pending: RelayedRequest, principal: string, abort: AbortController): string {
    const key = randomUUID();
    const timer = setTimeout(() => {
      this.parked.delete(key);
      pending.fail(new Error("the client did not answer in time"));
      abort.abort(new Error("input-required round expired"));
    }, this.ttlMs);
    timer.unref();
    this.parked.set(key, { mailbox, pending, principal, timer, abort });
    return key;
  }

  /** Takes a parked call out for its principal; undefined for unknown, expired or foreign keys. */
  take(
    key: string,
    principal: string,
  ): { mailbox: CallMailbox; pending: RelayedRequest; abort: AbortController } | undefined {
    const p = this.parked.get(key);
    if (!p || p.principal !== principal) return undefined;
    this.parked.delete(key);
    clearTimeout(p.timer);
    return { mailbox: p.mailbox, pending: p.pending, abort: p.abort };
  }

  close(): void {
    for (const p of this.parked.values()) {
      clearTimeout(p.timer);
      p.pending.fail(new Error("the gateway is shutting down"));
      p.abort.abort(new Error("the gateway is shutting down"));
    }
    this.parked.clear();
  }
}
