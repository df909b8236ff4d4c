/**
 * The Redis `SharedStore` (`--store redis://host:port[/db]`): approvals, token buckets, session
 * logs and session ownership shared by every instance that points at the same Redis. Each
 * compound step is one Lua script (compare-and-swap, token bucket on the server's own clock, log
 * append = INCR + XADD MAXLEN + PUBLISH), so it is atomic across instances. Session logs are Redis
 * Streams whose entry id is `<seq>-0`, which makes replay after `Last-Event-ID` one XRANGE; live
 * fan-out is one pub/sub channel every instance listens on.
 *
 * Client: the official node-redis (`@redis/client`, the core of the `redis` package without the
 * module commands we do not use): maintained by Redis itself, typed, no dependencies, with a
 * reconnect strategy and `disableOfflineQueue`, which makes a command fail at once while the
 * connection is down instead of queueing — exactly the fail-closed behaviour we need. Reconnection
 * backs off (100 ms doubling to 2 s, with jitter) forever, so an instance recovers by itself when
 * Redis returns; until then every operation rejects with `GW_ERR_STORE_UNAVAILABLE`.
 */
import { createHash } from "node:crypto";
import { createClient, type RedisClientType } from "@redis/client";
import { errorMessage, PortcullisError } from "../errors.js";
import type { LogEntry, LogListener, SharedStore, StoreStatus, TokenTake } from "./types.js";

const PREFIX = "portcullis:";
const CHANNEL = `${PREFIX}log-appended`;

const SWAP = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0`;

const INDEX_ADD = `redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1`;

// Refill by the server's clock, so instances with skewed clocks still share one bucket.
const TAKE_TOKEN = `local perMs = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * perMs)
local ok = 0
if tokens >= 1 then tokens = tokens - 1 ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / perMs) + 1000)
if ok == 1 then return {1, 0} end
return {0, math.ceil((1 - tokens) / perMs)}`;

const APPEND_LOG = `local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], seq .. '-0', 'p', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], cjson.encode({ARGV[5], seq, ARGV[1]}))
return seq`;

/** How long an idle session log (and its counter) is kept: one day after its last event. */
const LOG_TTL_MS = 86_400_000;

export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  url: string;
  /** A command that takes longer than this fails as unavailable (default 2,000 ms). */
  commandTimeoutMs?: number;
  /** Reports connection state changes (default: a line on stderr). */
  onStateChange?: (state: "ready" | "down", detail: string) => void;
}

/** Checks a store URL and returns it normalised; throws GW_ERR_CONFIG when it is not Redis. */
export function parseStoreUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PortcullisError(
      "GW_ERR_CONFIG",
      `store: '${raw}' is not a URL (expected redis://host:port[/db])`,
    );
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:")
    throw new PortcullisError(
      "GW_ERR_CONFIG",
      `store: unsupported scheme '${url.protocol}' (expected redis: or rediss:)`,
    );
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,2}$/.test(db))
    throw new PortcullisError(
      "GW_ERR_CONFIG",
      `store: database '${db}' must be a number (redis://host:port/0)`,
    );
  return url;
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

export class RedisStore implements SharedStore {
  readonly backend = "redis" as const;
  readonly #client: RedisClientType;
  readonly #sub: RedisClientType;
  readonly #timeoutMs: number;
  readonly #listeners = new Set<LogListener>();
  readonly #where: string;
  readonly #onState: (state: "ready" | "down", detail: string) => void;
  #lastError = "not connected yet";
  #closed = false;
  #subscribed = false;
  #wasReady = false;

  private constructor(opts: RedisStoreOptions) {
    const url = parseStoreUrl(opts.url);
    this.#where = `${url.hostname}:${url.port || "6379"}${url.pathname.length > 1 ? url.pathname : ""}`;
    this.#timeoutMs = opts.commandTimeoutMs ?? 2000;
    this.#onState =
      opts.onStateChange ??
      ((state, detail) => console.error(`portcullis: store ${this.#where} ${state}: ${detail}`));
    const backoff = (retries: number) =>
      Math.min(100 * 2 ** Math.min(retries, 5), 2000) + Math.floor(Math.random() * 100);
    this.#client = createClient({
      url: opts.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 2000, reconnectStrategy: backoff },
    }) as RedisClientType;
    this.#sub = this.#client.duplicate() as RedisClientType;
    for (const c of [this.#client, this.#sub]) {
      // Without an error listener node-redis rethrows; the state is tracked through ready/end.
      c.on("error", (e: unknown) => {
        this.#lastError = errorMessage(e);
        if (this.#wasReady && !this.#client.isReady) {
          this.#wasReady = false;
          this.#onState("down", this.#lastError);
        }
      });
    }
    this.#client.on("ready", () => {
      if (!this.#wasReady) this.#onState("ready", "connected");
      this.#wasReady = true;
    });
  }

  /**
   * Connects (waiting at most `waitMs` for the first connection) and listens for log appends.
   * A Redis that is not there yet is not an error: the store keeps reconnecting and answers
   * `GW_ERR_STORE_UNAVAILABLE` until it is reachable.
   */
  static async open(opts: RedisStoreOptions & { waitMs?: number }): Promise<RedisStore> {
    const store = new RedisStore(opts);
    // Subscribe on the first ready connection (also when Redis only comes up later); node-redis
    // renews the subscription by itself on every reconnect after that.
    let firstSubscribed: () => void = () => {};
    const subscribedOnce = new Promise<void>((done) => {
      firstSubscribed = done;
    });
    store.#sub.on("ready", () => {
      if (store.#subscribed || store.#closed) return;
      store.#sub
        .SUBSCRIBE(CHANNEL, (message: string) => store.#deliver(message))
        .then(() => {
          store.#subscribed = true;
          firstSubscribed();
        })
        .catch((e: unknown) => {
          store.#lastError = errorMessage(e);
        });
    });
    const connected = Promise.all([store.#client.connect(), store.#sub.connect()]);
    connected.catch((e: unknown) => {
      store.#lastError = errorMessage(e);
    });
    await Promise.race([
      Promise.all([connected, subscribedOnce]).catch(() => {}),
      new Promise((done) => setTimeout(done, opts.waitMs ?? 2000).unref()),
    ]);
    return store;
  }

  /** Both connections up: commands answer and appends by other instances are heard. */
  get available(): boolean {
    return !this.#closed && this.#client.isReady && this.#subscribed && this.#sub.isReady;
  }

  #deliver(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (!Array.isArray(parsed) || parsed.length !== 3) return;
    const [log, seq, payload] = parsed as [unknown, unknown, unknown];
    if (typeof log !== "string" || typeof seq !== "number" || typeof payload !== "string") return;
    for (const l of [...this.#listeners]) l(log.slice(PREFIX.length + 4), { seq, payload });
  }

  #unavailable(detail: string): PortcullisError {
    return new PortcullisError(
      "GW_ERR_STORE_UNAVAILABLE",
      `shared store ${this.#where} unavailable: ${detail}`,
    );
  }

  /** Runs one command with the availability check and the timeout; every failure is "unavailable". */
  async #run<T>(args: readonly string[]): Promise<T> {
    if (this.#closed) throw this.#unavailable("closed");
    if (!this.available) throw this.#unavailable(this.#lastError);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.#client.sendCommand<T>(args),
        new Promise<never>((_, fail) => {
          timer = setTimeout(
            () => fail(new Error(`no answer within ${this.#timeoutMs} ms`)),
            this.#timeoutMs,
          );
        }),
      ]);
    } catch (e) {
      throw this.#unavailable(errorMessage(e));
    } finally {
      clearTimeout(timer);
    }
  }

  async #script<T>(body: string, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await this.#run<T>(["EVALSHA", sha1(body), ...tail]);
    } catch (e) {
      // A Redis that restarted has an empty script cache: load by sending the body once.
      if (!errorMessage(e).includes("NOSCRIPT")) throw e;
      return this.#run<T>(["EVAL", body, ...tail]);
    }
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#run<string | null>(["GET", PREFIX + key])) ?? undefined;
  }

  async getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    if (keys.length === 0) return [];
    const values = await this.#run<Array<string | null>>(["MGET", ...keys.map((k) => PREFIX + k)]);
    return values.map((v) => v ?? undefined);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#run(["SET", PREFIX + key, value, "PX", String(Math.max(1, Math.ceil(ttlMs)))]);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<string | undefined> {
    const px = String(Math.max(1, Math.ceil(ttlMs)));
    return (await this.#run<string | null>(["SET", PREFIX + key, value, "NX", "GET", "PX", px])) ?? undefined;
  }

  async swap(key: string, expected: string, next: string, ttlMs: number): Promise<boolean> {
    return (
      (await this.#script<number>(SWAP, [PREFIX + key], [expected, next, Math.max(1, Math.ceil(ttlMs))])) ===
      1
    );
  }

  async indexAdd(index: string, member: string, score: number, ttlMs: number): Promise<void> {
    await this.#script(INDEX_ADD, [PREFIX + index], [member, score, Math.max(1, Math.ceil(ttlMs))]);
  }

  async indexMembers(index: string): Promise<string[]> {
    return this.#run<string[]>(["ZRANGE", PREFIX + index, "0", "-1"]);
  }

  async indexRemove(index: string, members: readonly string[]): Promise<void> {
    if (members.length > 0) await this.#run(["ZREM", PREFIX + index, ...members]);
  }

  async indexSize(index: string): Promise<number> {
    return this.#run<number>(["ZCARD", PREFIX + index]);
  }

  async takeToken(key: string, perMinute: number, burst: number): Promise<TokenTake> {
    const [ok, retryAfterMs] = await this.#script<[number, number]>(
      TAKE_TOKEN,
      [`${PREFIX}bucket:${key}`],
      [perMinute / 60_000, burst],
    );
    return ok === 1 ? { ok: true } : { ok: false, retryAfterMs };
  }

  async appendLog(log: string, payload: string, maxLen: number): Promise<number> {
    const name = `${PREFIX}log:${log}`;
    return this.#script<number>(
      APPEND_LOG,
      [`${PREFIX}seq:${log}`, name],
      [payload, Math.max(1, maxLen), LOG_TTL_MS, CHANNEL, name],
    );
  }

  async readLog(log: string, afterSeq: number): Promise<LogEntry[]> {
    const rows = await this.#run<Array<[string, string[]]>>([
      "XRANGE",
      `${PREFIX}log:${log}`,
      `${afterSeq + 1}-0`,
      "+",
    ]);
    return rows.map(([id, fields]) => ({ seq: Number(id.split("-")[0]), payload: fields[1] ?? "" }));
  }

  onAppend(listener: LogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async status(): Promise<StoreStatus> {
    try {
      await this.#run(["PING"]);
      return { ok: true, backend: "redis", detail: `connected to ${this.#where}` };
    } catch (e) {
      return { ok: false, backend: "redis", detail: errorMessage(e) };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    for (const c of [this.#sub, this.#client]) {
      try {
        if (c.isOpen) await c.close();
        else c.destroy();
      } catch {
        c.destroy();
      }
    }
  }
}
