/**
 * The in-process session event bus: the gateway's call and approval events and the workspace
 * activity events of each session, numbered per session and kept in a bounded history so an SSE
 * client that reconnects with Last-Event-ID can replay what it missed (`since`). Listeners run
 * synchronously in publish order; a failing listener is reported and never affects the others.
 * Every event's `data` is checked against the workspace session contract before it is numbered.
 */
import {
  SESSION_EVENT_KINDS,
  type SessionEvent,
  SessionEventData,
  type SessionEventDataOf,
  type SessionEventKind,
} from "../../contracts/index.js";
import { type Clock, isoNow, systemClock } from "../clock.js";
import { PortcullisError } from "../errors.js";
import { certainlyValidEventData } from "./data-check.js";

export type SessionEventListener = (event: SessionEvent) => void;

export interface SessionEventBusOptions {
  clock?: Clock;
  /** Events kept per session for replay (default 1000). */
  historyLimit?: number;
  /** Events kept across all sessions; the least recently active sessions' histories are trimmed first (default 100,000). */
  maxRetainedEvents?: number;
  /** Sessions whose seq is tracked; the least recently active one is forgotten beyond this (default 100,000). */
  maxSessions?: number;
  /** Called when a listener throws (default: a process warning). */
  onListenerError?: (error: unknown, event: SessionEvent) => void;
}

/** Subscribe to every session. */
export const ALL_SESSIONS = "*";

interface SessionState {
  seq: number;
  history: SessionEvent[];
}

const KINDS = new Set<string>(SESSION_EVENT_KINDS);

function defaultListenerError(error: unknown, event: SessionEvent): void {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(
    `session event listener failed on ${event.kind} (session ${event.session}): ${message}`,
  );
}

/**
 * Refuses what must never go on the wire: an empty or "*" session id, an unknown kind, or `data`
 * that does not match the kind's schema in the workspace session contract (GW_ERR_CONTRACT).
 */
export function checkSessionEvent(session: string, kind: string, data: unknown): void {
  if (typeof session !== "string" || session.length === 0 || session === ALL_SESSIONS) {
    throw new PortcullisError("GW_ERR_CONTRACT", `invalid session id '${String(session)}'`);
  }
  if (!KINDS.has(kind)) throw new PortcullisError("GW_ERR_CONTRACT", `unknown session event kind '${kind}'`);
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new PortcullisError("GW_ERR_CONTRACT", `data of a ${kind} event must be an object`);
  }
  // Callers typed against a looser port still cannot put a malformed event on the wire. The
  // gateway's own call events are checked in plain code; what that check does not accept goes
  // to the schema, which then accepts it or words the refusal.
  if (certainlyValidEventData(kind, data)) return;
  const checked = SessionEventData[kind as SessionEventKind].safeParse(data);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new PortcullisError(
      "GW_ERR_CONTRACT",
      `invalid ${kind} event data at ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
  }
}

export class SessionEventBus {
  private readonly clock: Clock;
  private readonly historyLimit: number;
  private readonly maxSessions: number;
  private readonly maxRetainedEvents: number;
  private retained = 0;
  private readonly onListenerError: (error: unknown, event: SessionEvent) => void;
  /** Map order is recency order: a publish moves its session to the end. */
  private readonly sessions = new Map<string, SessionState>();
  private readonly listeners = new Map<string, Set<SessionEventListener>>();

  constructor(opts: SessionEventBusOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.historyLimit = opts.historyLimit ?? 1000;
    this.maxSessions = opts.maxSessions ?? 100_000;
    this.maxRetainedEvents = opts.maxRetainedEvents ?? 100_000;
    if (!Number.isSafeInteger(this.historyLimit) || this.historyLimit < 0) {
      throw new RangeError(`historyLimit must be a non-negative integer, got ${this.historyLimit}`);
    }
    if (!Number.isSafeInteger(this.maxRetainedEvents) || this.maxRetainedEvents < 0) {
      throw new RangeError(`maxRetainedEvents must be a non-negative integer, got ${this.maxRetainedEvents}`);
    }
    if (!Number.isSafeInteger(this.maxSessions) || this.maxSessions < 1) {
      throw new RangeError(`maxSessions must be a positive integer, got ${this.maxSessions}`);
    }
    this.onListenerError = opts.onListenerError ?? defaultListenerError;
  }

  /** Stamps, records and delivers one event; returns it. seq starts at 1 in every session. */
  publish<K extends SessionEventKind>(session: string, kind: K, data: SessionEventDataOf<K>): SessionEvent {
    checkSessionEvent(session, kind, data);
    let state = this.sessions.get(session);
    if (state) this.sessions.delete(session);
    else state = { seq: 0, history: [] };
    this.sessions.set(session, state);
    if (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.endSession(oldest);
    }
    state.seq += 1;
    const event = {
      v: 1,
      session,
      seq: state.seq,
      ts: isoNow(this.clock),
      kind,
      data,
    } as SessionEvent;
    if (this.historyLimit > 0) {
      state.history.push(event);
      this.retained += 1;
      if (state.history.length > this.historyLimit) {
        state.history.shift();
        this.retained -= 1;
      }
      this.trimRetained();
    }
    this.deliver(this.listeners.get(session), event);
    this.deliver(this.listeners.get(ALL_SESSIONS), event);
    return event;
  }

  /** Calls `listener` for each later event of `session` (or of every session with "*"). */
  subscribe(session: string, listener: SessionEventListener): () => void {
    let set = this.listeners.get(session);
    if (!set) {
      set = new Set();
      this.listeners.set(session, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(session);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(session);
    };
  }

  /**
   * Retained events of `session` with seq greater than `seq`, oldest first. If the first one's
   * seq is above `seq + 1`, older events fell out of the history (the client missed some).
   */
  since(session: string, seq: number): SessionEvent[] {
    const history = this.sessions.get(session)?.history ?? [];
    if (history.length === 0) return [];
    // seqs in a history are consecutive, so the start index is arithmetic.
    const first = history[0]!.seq;
    return history.slice(Math.max(0, seq - first + 1));
  }

  /** seq of the session's latest event (0 when none). */
  lastSeq(session: string): number {
    return this.sessions.get(session)?.seq ?? 0;
  }

  /** Forgets a session's history and counter (call when the session ends). */
  endSession(session: string): void {
    const state = this.sessions.get(session);
    if (!state) return;
    this.retained -= state.history.length;
    this.sessions.delete(session);
  }

  /** Keeps memory bounded: drops the oldest events of the least recently active sessions. */
  private trimRetained(): void {
    if (this.retained <= this.maxRetainedEvents) return;
    for (const state of this.sessions.values()) {
      const drop = Math.min(state.history.length, this.retained - this.maxRetainedEvents);
      if (drop > 0) {
        state.history.splice(0, drop);
        this.retained -= drop;
      }
      if (this.retained <= this.maxRetainedEvents) return;
    }
  }

  private deliver(set: Set<SessionEventListener> | undefined, event: SessionEvent): void {
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (e) {
        this.onListenerError(e, event);
      }
    }
  }
}
