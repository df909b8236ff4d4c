import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPortcullisError } from "../errors.js";
import { MemoryStore } from "./memory.js";
import { parseStoreUrl, RedisStore } from "./redis.js";
import { type RedisServer, startRedisServer } from "./redis-server.js";
import type { LogEntry, SharedStore } from "./types.js";

let redis: RedisServer;
let redisStore: RedisStore;

beforeAll(async () => {
  redis = await startRedisServer();
  redisStore = await RedisStore.open({ url: redis.url, onStateChange: () => {} });
}, 20_000);

afterAll(async () => {
  await redisStore?.close();
  await redis?.stop();
});

let n = 0;
const fresh = (name: string) => `${name}-${process.pid}-${++n}`;

describe.each([
  ["memory", () => new MemoryStore() as SharedStore],
  ["redis", () => redisStore as SharedStore],
])("%s store", (_name, store) => {
  it("gets, sets and swaps only from the expected value", async () => {
    const s = store();
    const k = fresh("k");
    expect(await s.get(k)).toBeUndefined();
    await s.set(k, "a", 10_000);
    expect(await s.get(k)).toBe("a");
    expect(await s.swap(k, "b", "c", 10_000)).toBe(false);
    expect(await s.swap(k, "a", "c", 10_000)).toBe(true);
    expect(await s.get(k)).toBe("c");
    expect(await s.setIfAbsent(k, "d", 10_000)).toBe("c");
    const k2 = fresh("k");
    expect(await s.setIfAbsent(k2, "d", 10_000)).toBeUndefined();
    expect(await s.get(k2)).toBe("d");
    expect(await s.getMany([k, fresh("absent"), k2])).toEqual(["c", undefined, "d"]);
    expect(await s.getMany([])).toEqual([]);
  });

  it("keeps a sorted index", async () => {
    const s = store();
    const i = fresh("i");
    await s.indexAdd(i, "b", 2, 10_000);
    await s.indexAdd(i, "a", 1, 10_000);
    await s.indexAdd(i, "c", 3, 10_000);
    expect(await s.indexMembers(i)).toEqual(["a", "b", "c"]);
    await s.indexRemove(i, ["b"]);
    expect(await s.indexMembers(i)).toEqual(["a", "c"]);
    expect(await s.indexSize(i)).toBe(2);
  });

  it("takes tokens until the bucket is empty and says when the next one comes", async () => {
    const s = store();
    const k = fresh("bucket");
    expect(await s.takeToken(k, 60, 2)).toEqual({ ok: true });
    expect(await s.takeToken(k, 60, 2)).toEqual({ ok: true });
    const refused = await s.takeToken(k, 60, 2);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterMs).toBeGreaterThan(900);
    expect((await s.takeToken(fresh("bucket"), 60, 2)).ok).toBe(true);
  });

  it("numbers log entries from 1, keeps the last maxLen, replays after a seq and announces appends", async () => {
    const s = store();
    const log = fresh("log");
    const seen: LogEntry[] = [];
    const off = s.onAppend((l, e) => {
      if (l === log) seen.push(e);
    });
    for (let i = 1; i <= 5; i++) expect(await s.appendLog(log, `p${i}`, 3)).toBe(i);
    expect((await s.readLog(log, 0)).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(await s.readLog(log, 4)).toEqual([{ seq: 5, payload: "p5" }]);
    await expect.poll(() => seen.length).toBe(5);
    expect(seen.map((e) => e.payload)).toEqual(["p1", "p2", "p3", "p4", "p5"]);
    off();
  });

  it("keeps exactly the last maxLen entries however many were appended", async () => {
    const s = store();
    const log = fresh("long");
    for (let n = 1; n <= 260; n++) {
      await s.appendLog(log, `p${n}`, 100);
      if (n % 37 !== 0 && n < 255) continue;
      const all = await s.readLog(log, 0);
      expect(all.map((e) => e.seq)).toEqual(
        Array.from({ length: Math.min(n, 100) }, (_, i) => n - Math.min(n, 100) + 1 + i),
      );
      expect((await s.readLog(log, n - 2)).map((e) => e.payload)).toEqual([`p${n - 1}`, `p${n}`]);
    }
  });
});

describe("redis store", () => {
  it("refuses URLs that are not Redis", () => {
    expect(() => parseStoreUrl("http://x")).toThrow(/unsupported scheme/);
    expect(() => parseStoreUrl("redis://x/abc")).toThrow(/must be a number/);
    expect(parseStoreUrl("redis://127.0.0.1:6379/2").pathname).toBe("/2");
  });

  it("shares one bucket and one one-shot swap between two clients", async () => {
    const other = await RedisStore.open({ url: redis.url, onStateChange: () => {} });
    try {
      const k = fresh("shared");
      const takes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? other : redisStore).takeToken(k, 1, 4)),
      );
      expect(takes.filter((t) => t.ok).length).toBe(4);
      const key = fresh("once");
      await redisStore.set(key, "granted", 10_000);
      const wins = await Promise.all([
        redisStore.swap(key, "granted", "consumed", 10_000),
        other.swap(key, "granted", "consumed", 10_000),
      ]);
      expect(wins.filter(Boolean).length).toBe(1);
    } finally {
      await other.close();
    }
  });

  it("fails closed while Redis is gone and recovers by itself when it returns", async () => {
    const log = fresh("log");
    expect(await redisStore.appendLog(log, "before", 10)).toBe(1);
    await redis.stop();
    await expect.poll(() => redisStore.available, { timeout: 5000 }).toBe(false);
    const err = await redisStore.get("x").catch((e: unknown) => e);
    expect(isPortcullisError(err) && err.code).toBe("GW_ERR_STORE_UNAVAILABLE");
    expect((await redisStore.status()).ok).toBe(false);
    await redis.restart();
    await expect.poll(() => redisStore.available, { timeout: 10_000, interval: 100 }).toBe(true);
    expect((await redisStore.status()).ok).toBe(true);
    // A restarted Redis has an empty script cache; scripts are sent again.
    const seen: string[] = [];
    const off = redisStore.onAppend((l, e) => l === log && seen.push(e.payload));
    expect(await redisStore.appendLog(log, "after", 10)).toBe(1);
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(["after"]);
    off();
  }, 30_000);

  it("starts without Redis and connects by itself once it is there", async () => {
    const server = await startRedisServer();
    await server.stop();
    const store = await RedisStore.open({ url: server.url, waitMs: 300, onStateChange: () => {} });
    try {
      expect(store.available).toBe(false);
      await expect(store.get("k")).rejects.toMatchObject({ code: "GW_ERR_STORE_UNAVAILABLE" });
      await server.restart();
      await expect.poll(() => store.available, { timeout: 10_000, interval: 100 }).toBe(true);
      await store.set("k", "v", 1000);
      expect(await store.get("k")).toBe("v");
      const seen: string[] = [];
      store.onAppend((_l, e) => seen.push(e.payload));
      await store.appendLog("late", "hello", 5);
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(["hello"]);
    } finally {
      await store.close();
      await server.stop();
    }
  }, 30_000);
});
