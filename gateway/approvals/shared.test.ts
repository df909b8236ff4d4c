import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../native/index.js";
import { RedisStore } from "../store/redis.js";
import { type RedisServer, startRedisServer } from "../store/redis-server.js";
import { SharedApprovalStore } from "./index.js";

let redis: RedisServer;
let a: RedisStore;
let b: RedisStore;

beforeAll(async () => {
  redis = await startRedisServer();
  a = await RedisStore.open({ url: redis.url, onStateChange: () => {} });
  b = await RedisStore.open({ url: redis.url, onStateChange: () => {} });
}, 20_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
});

describe("SharedApprovalStore over Redis (two instances)", () => {
  it("is asked on one instance, answered on the other, and a one-shot grant admits one call in all", async () => {
    const onA = new SharedApprovalStore(a);
    const onB = new SharedApprovalStore(b);
    const call = { principal: "alice", tool: "files__delete", args_digest: sha256Hex("{}") };
    let changes = 0;
    const off = onB.onChange(() => changes++);
    const { id } = await onA.request({ ...call, prompt: "Delete?", ttl_s: 60 });
    // B hears of A's request (pub/sub), so its long-polls look again at once
    await expect.poll(() => changes).toBe(1);
    expect((await onB.pending()).map((x) => x.id)).toContain(id);
    expect(await onB.get(id)).toMatchObject({ state: "pending", principal: "alice" });
    await onB.resolve(id, true, "bob");
    await expect.poll(() => changes).toBe(2);
    off();
    expect(await onA.get(id)).toMatchObject({ state: "granted", resolved_by: "bob" });
    expect((await onA.pending()).map((x) => x.id)).not.toContain(id);
    await expect(onA.resolve(id, false, "carol")).rejects.toThrow(/already granted/);
    const checks = await Promise.all([onA.check(call), onB.check(call), onA.check(call), onB.check(call)]);
    expect(checks.filter((c) => c === "granted")).toHaveLength(1);
    expect(await onA.check(call)).toBe("none");
  });

  it("fails with GW_ERR_STORE_UNAVAILABLE while Redis is down", async () => {
    const onA = new SharedApprovalStore(a);
    await redis.stop();
    try {
      await expect.poll(() => a.available, { timeout: 5000 }).toBe(false);
      await expect(
        onA.request({ principal: "p", tool: "t", args_digest: "d", prompt: "?", ttl_s: 5 }),
      ).rejects.toMatchObject({
        code: "GW_ERR_STORE_UNAVAILABLE",
      });
      await expect(onA.pending()).rejects.toMatchObject({ code: "GW_ERR_STORE_UNAVAILABLE" });
    } finally {
      await redis.restart();
    }
    await expect.poll(() => a.available, { timeout: 10_000 }).toBe(true);
    expect(await onA.pending()).toEqual([]);
  }, 30_000);
});
