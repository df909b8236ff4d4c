/**
 * The shared-state port: the few primitives the approval store, the rate limiter, the session
 * event fan-out and session ownership need, so each of them is written once against this
 * interface and runs in one process (`MemoryStore`) or across instances (`RedisStore`,
 * `--store redis://…`). Every operation is atomic on its own — compare-and-swap, token take and
 * log append are single steps in both backends — which is what makes a one-shot approval grant
 * admit exactly one call and a rate limit hold across instances. A backend that cannot be reached
 * rejects with `GW_ERR_STORE_UNAVAILABLE`; callers fail closed on it.
 */

/** The answer of a token-bucket take. */
export type TokenTake = { ok: true } | { ok: false; retryAfterMs: number };

/** One entry of a bounded, numbered log (seq starts at 1 per log). */
export interface LogEntry {
  seq: number;
  payload: string;
}

/** Called for every entry appended to any log, by this or another instance. */
export type LogListener = (log: string, entry: LogEntry) => void;

/** Reachability of the backend, for `/readyz`. */
export interface StoreStatus {
  ok: boolean;
  backend: "memory" | "redis";
  detail: string;
}

export interface SharedStore {
  readonly backend: "memory" | "redis";
  /** Whether the backend is reachable right now (a cheap, synchronous look). */
  readonly available: boolean;
  get(key: string): Promise<string | undefined>;
  /** `get` of several keys in one round trip, in order. */
  getMany(keys: readonly string[]): Promise<Array<string | undefined>>;
  /** Sets `key`, forgotten after `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Sets `key` only when it is absent; returns the value already there, if any. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<string | undefined>;
  /** Replaces `key` only when it still holds `expected`; says whether it did. */
  swap(key: string, expected: string, next: string, ttlMs: number): Promise<boolean>;
  /** Adds `member` to a sorted index (kept `ttlMs` after its latest addition). */
  indexAdd(index: string, member: string, score: number, ttlMs: number): Promise<void>;
  /** Members of an index, lowest score first. */
  indexMembers(index: string): Promise<string[]>;
  indexRemove(index: string, members: readonly string[]): Promise<void>;
  indexSize(index: string): Promise<number>;
  /** Takes one token from the bucket `key` (`burst` tokens, refilled at `perMinute`). */
  takeToken(key: string, perMinute: number, burst: number): Promise<TokenTake>;
  /** Appends to a log holding at most `maxLen` entries; returns the entry's seq. */
  appendLog(log: string, payload: string, maxLen: number): Promise<number>;
  /** Retained entries with seq above `afterSeq`, oldest first. */
  readLog(log: string, afterSeq: number): Promise<LogEntry[]>;
  /** Delivers every later append to any log; returns the unsubscribe function. */
  onAppend(listener: LogListener): () => void;
  /** Checks the backend now (a round trip for Redis). */
  status(): Promise<StoreStatus>;
  close(): Promise<void>;
}
