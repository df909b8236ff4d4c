/**
 * Session events over the shared store: what `portcullis serve` uses, so an event published on
 * one instance reaches the SSE streams of every instance and a reconnecting client can replay it
 * from any of them (`Last-Event-ID`). Each session is one bounded store log (the last
 * `historyLimit` events; a Redis Stream trimmed with MAXLEN when the store is Redis) whose seq is
 * the event's `seq`, so numbering is per session and shared by all instances; live delivery comes
 * from the store's append notifications (Redis pub/sub), for this instance's own events too.
 * Events are checked against the workspace session contract before they are stored; a store that
 * cannot be reached loses the event with a warning and never fails the call that published it.
 */
import type { SessionEvent, SessionEventDataOf, SessionEventKind } from "../../contracts/index.js";
import { type Clock, isoNow, systemClock } from "../clock.js";
import { errorMessage } from "../errors.js";
import type { SharedStore } from "../store/types.js";
import { ALL_SESSIONS, checkSessionEvent, type SessionEventListener } from "./bus.js";

/** What an SSE route needs: live events of a session (or "*") and the replay after a seq. */
export interface SessionEventFeed {
  subscribe(session: string, listener: SessionEventListener): () => void;
  since(session: string, seq: number): Promise<SessionEvent[]>;
}

export interface SharedSessionEventsOptions {
  clock?: Clock;
  /** Events kept per session for replay (default 1000). */
  historyLimit?: number;
  /** Called when a listener throws or an event cannot be stored (default: a process warning). */
  onError?: (error: unknown, what: string) => void;
}

const LOG_PREFIX = "session:";

export class SharedSessionEvents implements SessionEventFeed {
  readonly #store: SharedStore;
  readonly #clock: Clock;
  readonly #historyLimit: number;
  readonly #onError: (error: unknown, what: string) => void;
  readonly #listeners = new Map<string, Set<SessionEventListener>>();
  readonly #off: () => void;

  constructor(store: SharedStore, opts: SharedSessionEventsOptions = {}) {
    this.#store = store;
    this.#clock = opts.clock ?? systemClock;
    this.#historyLimit = opts.historyLimit ?? 1000;
    if (!Number.isSafeInteger(this.#historyLimit) || this.#historyLimit < 1)
      throw new RangeError(`historyLimit must be a positive integer, got ${this.#historyLimit}`);
    this.#onError =
      opts.onError ?? ((e, what) => process.emitWarning(`session events: ${what}: ${errorMessage(e)}`));
    this.#off = store.onAppend((log, entry) => {
      if (!log.startsWith(LOG_PREFIX)) return;
      const session = log.slice(LOG_PREFIX.length);
      // Nobody listening here: the event stays in the store for replay, nothing to decode.
      if (!this.#listeners.has(session) && !this.#listeners.has(ALL_SESSIONS)) return;
      const event = this.#decode(session, entry.seq, entry.payload);
      if (!event) return;
      this.#deliver(this.#listeners.get(event.session), event);
      this.#deliver(this.#listeners.get(ALL_SESSIONS), event);
    });
  }

  /**
   * Checks and stores one event; resolves to it once stored (undefined when the store failed, which
   * is reported, never thrown). A malformed event throws GW_ERR_CONTRACT at once.
   */
  publish<K extends SessionEventKind>(
    session: string,
    kind: K,
    data: SessionEventDataOf<K>,
  ): Promise<SessionEvent | undefined> {
    checkSessionEvent(session, kind, data);
    const ts = isoNow(this.#clock);
    const payload = JSON.stringify({ ts, kind, data });
    return this.#store.appendLog(LOG_PREFIX + session, payload, this.#historyLimit).then(
      (seq) => ({ v: 1, session, seq, ts, kind, data }) as SessionEvent,
      (e: unknown) => {
        this.#onError(e, `${kind} of session ${session} not stored`);
        return undefined;
      },
    );
  }

  subscribe(session: string, listener: SessionEventListener): () => void {
    let set = this.#listeners.get(session);
    if (!set) {
      set = new Set();
      this.#listeners.set(session, set);
    }
    set.add(listener);
    return () => {
      const current = this.#listeners.get(session);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.#listeners.delete(session);
    };
  }

  /** Retained events of `session` with seq above `seq`, oldest first (rejects when the store is down). */
  async since(session: string, seq: number): Promise<SessionEvent[]> {
    const entries = await this.#store.readLog(LOG_PREFIX + session, seq);
    return entries.flatMap((e) => this.#decode(session, e.seq, e.payload) ?? []);
  }

  /** Stops listening to the store. */
  close(): void {
    this.#off();
    this.#listeners.clear();
  }

  #decode(session: string, seq: number, payload: string): SessionEvent | undefined {
    try {
      const { ts, kind, data } = JSON.parse(payload) as { ts: string; kind: string; data: unknown };
      return { v: 1, session, seq, ts, kind, data } as SessionEvent;
    } catch (e) {
      this.#onError(e, `unreadable event ${seq} of session ${session}`);
      return undefined;
    }
  }

  #deliver(set: Set<SessionEventListener> | undefined, event: SessionEvent): void {
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (e) {
        this.#onError(e, `listener failed on ${event.kind} (session ${event.session})`);
      }
    }
  }
}
