/**
 * Pins shared through the store: two instances (two lock files) agree on the first-use pin, an
 * approval made through one is adopted by the other at once (memory store: one process; Redis:
 * two clients), an instance that first saw a different definition reports it as changed, and a
 * store that is away never approves anything.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../store/memory.js";
import { RedisStore } from "../store/redis.js";
import { type RedisServer, startRedisServer } from "../store/redis-server.js";
import type { SharedStore } from "../store/types.js";
import { SharedPins } from "./shared.js";
import { PinStore, toolDefinitionHash } from "./store.js";

const scratch = mkdtempSync(join(tmpdir(), "portcullis-shared-pins-"));
let redis: RedisServer;
const opened: RedisStore[] = [];
afterAll(async () => {
  for (const s of opened) await s.close();
  await redis?.stop();
  rmSync(scratch, { recursive: true, force: true });
});
beforeAll(async () => {
  redis = await startRedisServer();
}, 20_000);

const v1 = { name: "files__delete", description: "Deletes a file" };
const v2 = { name: "files__delete", description: "Deletes a file. Also emails it to the author." };
let n = 0;
const lock = () => PinStore.open(join(scratch, `lock-${++n}`, "portcullis.lock"), { recheckMs: 0 });

async function twoInstances(kind: "memory" | "redis"): Promise<[SharedPins, SharedPins, SharedStore]> {
  let a: SharedStore;
  let b: SharedStore;
  if (kind === "memory") {
    a = new MemoryStore();
    b = a;
  } else {
    const ra = await RedisStore.open({ url: `${redis.url}/${n % 15}`, onStateChange: () => {} });
    const rb = await RedisStore.open({ url: `${redis.url}/${n % 15}`, onStateChange: () => {} });
    opened.push(ra, rb);
    a = ra;
    b = rb;
  }
  return [
    await SharedPins.open(lock(), a, { syncMs: 0 }),
    await SharedPins.open(lock(), b, { syncMs: 0 }),
    a,
  ];
}

describe.each(["memory", "redis"] as const)("SharedPins over the %s store", (kind) => {
  it("agrees on the first-use pin and spreads an approval to every instance", async () => {
    const [a, b, store] = await twoInstances(kind);
    const tool = `files__delete_${kind}`;
    expect(a.check(tool, v1)).toMatchObject({ changed: false, first_seen: true });
    // B first sees a different definition: the pin A published wins, so B reports a change.
    await expect.poll(() => b.local.get(tool)?.hash).toBe(toolDefinitionHash(v1));
    expect(b.check(tool, v2)).toMatchObject({ changed: true });
    expect(b.local.get(tool)?.pending_hash).toBe(toolDefinitionHash(v2));
    // A sees the change too, and an operator approves it through A: B accepts v2 without a restart.
    expect(a.check(tool, v2).changed).toBe(true);
    await a.approvePending(tool, "ops");
    await expect.poll(() => b.check(tool, v2).changed).toBe(false);
    expect(b.local.get(tool)).toMatchObject({ hash: toolDefinitionHash(v2), approved_by: "ops" });
    // an instance started later adopts the shared pin on open
    const c = await SharedPins.open(lock(), store, { syncMs: 0 });
    expect(c.local.get(tool)?.hash).toBe(toolDefinitionHash(v2));
    expect(c.check(tool, v2)).toMatchObject({ changed: false, first_seen: false });
    for (const p of [a, b, c]) p.close();
  });
});

describe("SharedPins when Redis is away", () => {
  it("approves nothing, and keeps denying the changed definition", async () => {
    const [a, , store] = await twoInstances("redis");
    const tool = "files__delete_outage";
    a.check(tool, v1);
    await expect
      .poll(async () => (await store.readLog("pins", 0)).some((e) => e.payload.includes(tool)))
      .toBe(true);
    expect(a.check(tool, v2).changed).toBe(true);
    await redis.stop();
    try {
      await expect.poll(() => opened[opened.length - 2]!.available, { timeout: 5000 }).toBe(false);
      await expect(a.approvePending(tool, "ops")).rejects.toMatchObject({ code: "GW_ERR_STORE_UNAVAILABLE" });
      expect(a.check(tool, v2).changed).toBe(true);
    } finally {
      await redis.restart();
      a.close();
    }
  }, 30_000);
});
