/**
 * Parked calls: how a 2026-era client answers a request an upstream sends in the middle of a tool
 * call (elicitation or sampling, the 2025 way). The 2026 era has no server-to-client requests, so
 * the gateway keeps the upstream call running, answers the client with an input-required result
 * carrying the upstream's request, and parks the call under a key sealed into `requestState`. The
 * client's retry delivers its answer to the waiting upstream request, and the retry's response is
 * the call's next event: its result, or the upstream's next request (another round).
 */
import { randomUUID } from "node:crypto";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/** A request the upstream sent to the client, waiting for the client's answer. */
export interface RelayedRequest {
  method: "elicitation/create" | "sampling/createMessage";
  params: Record<string, unknown>;
  answer(result: unknown): void;
  fail(error: Error): void;
}

export type CallEvent =
  | { kind: "done"; result: CallToolResult }
  | { kind: "failed"; error: unknown }
  | { kind: "ask"; request: RelayedRequest };

/** One in-flight call's events, consumed one at a time by successive HTTP requests. */
export class CallMailbox {
  private readonly events: CallEvent[] = [];
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

  /** A channel method that relays one request through the mailbox and waits for its answer. */
  relay(
    method: RelayedRequest["method"],
    params: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal?.reason ?? new Error("aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.push({
        kind: "ask",
        request: {
          method,
          params,
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
