/**
 * The in-process `SharedStore`: what a single gateway uses when no `--store` is given, and the
 * reference behaviour the Redis backend must match (the store tests run against both). Time comes
 * from the injected clock, so approval expiry and token refill are testable without sleeping.
 * Memory is bounded: expired keys are swept as they are met and every 1,024 writes, keys are
 * capped at `maxKeys` (oldest written forgotten), token buckets are kept for at most `maxBuckets` keys (least recently used forgotten — which only
 * ever refills a bucket early), and each log keeps its last `maxLen` entries.
 */
import { type Clock, systemClock } from "../clock.js";
import type { LogEntry, LogListener, SharedStore, StoreStatus, TokenTake } from "./types.js";

interface Held {
  value: string;
  until: number;
}

interface Index {
  scores: Map<string, number>;
  until: number;
}

interface Log {
  seq: number;
  entries: LogEntry[];
  /** The log keeps its last maxLen entries (the array may hold up to a trim batch more). */
  maxLen: number;
}

export interface MemoryStoreOptions {
  clock?: Clock;
  /** Token buckets remembered at most; default 100,000. */
  maxBuckets?: number;
  /** Logs (sessions) remembered at most; the least recently appended one is forgotten; default 100,000. */
  maxLogs?: number;
  /** Keys held at most; the oldest written one is forgotten beyond this; default 1,000,000. */
  maxKeys?: number;
}

export class MemoryStore implements SharedStore {
  readonly backend = "memory" as const;
  readonly available = true;
  readonly #clock: Clock;
  readonly #maxBuckets: number;
  readonly #maxLogs: number;
  readonly #maxKeys: number;
  readonly #keys = new Map<string, Held>();
  readonly #indexes = new Map<string, Index>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #logs = new Map<string, Log>();
  readonly #listeners = new Set<LogListener>();
  #writesSinceSweep = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#maxBuckets = opts.maxBuckets ?? 100_000;
    this.#maxLogs = opts.maxLogs ?? 100_000;
    this.#maxKeys = opts.maxKeys ?? 1_000_000;
  }

  #now(): number {
    return this.#clock.now().getTime();
  }

  #live(key: string): Held | undefined {
    const h = this.#keys.get(key);
    if (h && h.until <= this.#now()) {
      this.#keys.delete(key);
      return undefined;
    }
    return h;
  }

  #put(key: string, value: string, ttlMs: number): void {
    // Re-inserting keeps Map order = write order, so the first key is the oldest written.
    this.#keys.delete(key);
    this.#keys.set(key, { value, until: this.#now() + ttlMs });
    if (++this.#writesSinceSweep >= 1024) this.#sweep();
    if (this.#keys.size > this.#maxKeys) this.#keys.delete(this.#keys.keys().next().value as string);
  }

  #sweep(): void {
    this.#writesSinceSweep = 0;
    const now = this.#now();
    for (const [k, h] of this.#keys) if (h.until <= now) this.#keys.delete(k);
    for (const [k, i] of this.#indexes) if (i.until <= now) this.#indexes.delete(k);
  }

  async get(key: string): Promise<string | undefined> {
    return this.#live(key)?.value;
  }

  async getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    return keys.map((k) => this.#live(k)?.value);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#put(key, value, ttlMs);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<string | undefined> {
    const held = this.#live(key);
    if (held) return held.value;
    this.#put(key, value, ttlMs);
    return undefined;
  }

  async swap(key: string, expected: string, next: string, ttlMs: number): Promise<boolean> {
    if (this.#live(key)?.value !== expected) return false;
    this.#put(key, next, ttlMs);
    return true;
  }

  #index(index: string): Index | undefined {
    const i = this.#indexes.get(index);
    if (i && i.until <= this.#now()) {
      this.#indexes.delete(index);
      return undefined;
    }
    return i;
  }

  async indexAdd(index: string, member: string, score: number, ttlMs: number): Promise<void> {
    const i = this.#index(index) ?? { scores: new Map<string, number>(), until: 0 };
    i.scores.set(member, score);
    i.until = Math.max(i.until, this.#now() + ttlMs);
    this.#indexes.set(index, i);
  }

  async indexMembers(index: string): Promise<string[]> {
    const i = this.#index(index);
    if (!i) return [];
    // A stable sort: equal scores keep insertion order (Redis orders them by member instead).
    return [...i.scores].sort((a, b) => a[1] - b[1]).map(([m]) => m);
  }

  async indexRemove(index: string, members: readonly string[]): Promise<void> {
    const i = this.#index(index);
    if (!i) return;
    for (const m of members) i.scores.delete(m);
    if (i.scores.size === 0) this.#indexes.delete(index);
  }

  async indexSize(index: string): Promise<number> {
    return this.#index(index)?.scores.size ?? 0;
  }

  async takeToken(key: string, perMinute: number, burst: number): Promise<TokenTake> {
    return this.takeTokenNow(key, perMinute, burst);
  }

  /** `takeToken` without the promise, for callers that must answer synchronously. */
  takeTokenNow(key: string, perMinute: number, burst: number): TokenTake {
    const now = this.#now();
    const perMs = perMinute / 60_000;
    const b = this.#buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + Math.max(0, now - b.at) * perMs);
    b.at = now;
    // Re-inserting keeps Map order = recency order, so the first key is the least recently used.
    this.#buckets.delete(key);
    this.#buckets.set(key, b);
    if (this.#buckets.size > this.#maxBuckets)
      this.#buckets.delete(this.#buckets.keys().next().value as string);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) / perMs) };
  }

  async appendLog(log: string, payload: string, maxLen: number): Promise<number> {
    let l = this.#logs.get(log);
    if (l) this.#logs.delete(log);
    else l = { seq: 0, entries: [], maxLen };
    this.#logs.set(log, l);
    if (this.#logs.size > this.#maxLogs) this.#logs.delete(this.#logs.keys().next().value as string);
    l.seq += 1;
    const entry = { seq: l.seq, payload };
    if (maxLen > 0) {
      l.maxLen = maxLen;
      l.entries.push(entry);
      // Trimmed in batches: dropping the oldest entry on every append shifted the whole array each
      // time (~5 µs per session event at 1,000 entries). readLog shows only the last maxLen.
      if (l.entries.length >= maxLen + Math.min(maxLen, 256)) l.entries.splice(0, l.entries.length - maxLen);
    }
    for (const listener of [...this.#listeners]) listener(log, entry);
    return l.seq;
  }

  async readLog(log: string, afterSeq: number): Promise<LogEntry[]> {
    const l = this.#logs.get(log);
    const entries = l?.entries ?? [];
    if (entries.length === 0) return [];
    // seqs in a log are consecutive, so the start index is arithmetic; entries beyond the last
    // maxLen wait for the next batch trim and are not part of the log any more.
    const retainedFrom = Math.max(0, entries.length - l!.maxLen);
    return entries.slice(Math.max(retainedFrom, afterSeq - entries[0]!.seq + 1));
  }

  onAppend(listener: LogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async status(): Promise<StoreStatus> {
    return { ok: true, backend: "memory", detail: "in-process state (one instance)" };
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
