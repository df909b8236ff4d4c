/**
 * Token buckets with a controlled clock (burst, refill, per-principal isolation, retry hint),
 * the decision decorator (listings not counted, breach = deny RATE_LIMITED without asking the
 * policy), and the limit through the real REST gateway: the call over the limit is a 403 denial
 * with RATE_LIMITED, audited, while another principal still gets through.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../server/commands/serve.js";
import { createRuntime } from "../../server/runtime.js";
import { createServices } from "../../server/services.js";
import { validateConfig } from "../config/load.js";
import { PortcullisError } from "../errors.js";
import type { PolicyInputDoc } from "../pipeline/context.js";
import { MemoryStore } from "../store/memory.js";
import type { SharedStore } from "../store/types.js";
import { rateLimitedDecisions, storeGuardedDecisions, TokenBucketLimiter } from "./index.js";

const scratch = mkdtempSync(join(tmpdir(), "portcullis-rate-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("TokenBucketLimiter", () => {
  it("allows a burst, then refills at perMinute, per principal", async () => {
    let now = 0;
    const l = new TokenBucketLimiter({ perMinute: 6, burst: 2, now: () => now });
    expect((await l.take("a")).ok).toBe(true);
    expect((await l.take("a")).ok).toBe(true);
    const refused = await l.take("a");
    expect(refused).toEqual({ ok: false, retryAfterMs: 10_000 });
    expect((await l.take("b")).ok).toBe(true);
    now = 9_999;
    expect((await l.take("a")).ok).toBe(false);
    now = 10_000;
    expect((await l.take("a")).ok).toBe(true);
    expect((await l.take("a")).ok).toBe(false);
    now = 10 * 60_000;
    expect((await l.take("a")).ok).toBe(true);
    expect((await l.take("a")).ok).toBe(true);
    expect((await l.take("a")).ok).toBe(false);
  });

  it("refuses nonsense limits", () => {
    expect(() => new TokenBucketLimiter({ perMinute: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucketLimiter({ perMinute: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe("rateLimitedDecisions", () => {
  const input = (action: PolicyInputDoc["action"]) =>
    ({
      v: 1,
      action,
      principal: { id: "p", roles: [], authenticated: true, via: "api_key" },
      target: { kind: "tool", name: "t" },
      arguments: {},
      data_classes: [],
      context: { time: "2026-11-24T10:00:00Z", request_id: "r", transport: "http" },
    }) as PolicyInputDoc;

  it("denies with RATE_LIMITED without asking the policy; listings are free", async () => {
    let asked = 0;
    const port = rateLimitedDecisions(
      {
        decide: async () => {
          asked += 1;
          return { decision: "allow", reasons: [{ code: "ALLOWED_BY_RULE", message: "ok" }] };
        },
      },
      new TokenBucketLimiter({ perMinute: 1, burst: 1, now: () => 0 }),
    );
    expect((await port.decide(input("tools/call"))).decision).toBe("allow");
    for (let i = 0; i < 5; i++) expect((await port.decide(input("tools/list"))).decision).toBe("allow");
    const denied = await port.decide(input("resources/read"));
    expect(denied.decision).toBe("deny");
    expect(denied.reasons[0]?.code).toBe("RATE_LIMITED");
    expect(asked).toBe(6);
  });
});

describe("shared state unavailable", () => {
  const input = (action: PolicyInputDoc["action"]) =>
    ({
      v: 1,
      action,
      principal: { id: "p", roles: [], authenticated: true, via: "api_key" },
      target: { kind: "tool", name: "t" },
      arguments: {},
      data_classes: [],
      context: { time: "2026-11-24T10:00:00Z", request_id: "r", transport: "http" },
    }) as PolicyInputDoc;
  const unavailable = (): SharedStore =>
    Object.assign(Object.create(new MemoryStore()) as SharedStore, {
      available: false,
      takeToken: () => Promise.reject(new PortcullisError("GW_ERR_STORE_UNAVAILABLE", "store down (test)")),
    });
  const policy = (decision: "allow" | "ask_user") => ({
    decide: async () => ({ decision, reasons: [{ code: "ALLOWED_BY_RULE", message: "ok" }] }),
  });

  it("a rate limit that cannot be checked denies with STORE_UNAVAILABLE; listings still pass", async () => {
    const port = rateLimitedDecisions(
      policy("allow"),
      new TokenBucketLimiter({ perMinute: 60, burst: 5, store: unavailable() }),
    );
    const d = await port.decide(input("tools/call"));
    expect(d.decision).toBe("deny");
    expect(d.reasons.map((r) => r.code)).toEqual(["STORE_UNAVAILABLE"]);
    expect((await port.decide(input("tools/list"))).decision).toBe("allow");
  });

  it("an ask_user decision becomes a deny while the store holding approvals is away", async () => {
    const store = unavailable();
    const asked = await storeGuardedDecisions(policy("ask_user"), store).decide(input("tools/call"));
    expect(asked.decision).toBe("deny");
    expect(asked.reasons.map((r) => r.code)).toEqual(["ALLOWED_BY_RULE", "STORE_UNAVAILABLE"]);
    expect((await storeGuardedDecisions(policy("allow"), store).decide(input("tools/call"))).decision).toBe(
      "allow",
    );
    expect(
      (await storeGuardedDecisions(policy("ask_user"), new MemoryStore()).decide(input("tools/call")))
        .decision,
    ).toBe("ask_user");
  });

  it("the synchronous form applies the same guard, and exists only where the port has one", () => {
    const sync = (decision: "allow" | "ask_user") => ({
      ...policy(decision),
      decideSync: () => ({ decision, reasons: [{ code: "ALLOWED_BY_RULE", message: "ok" }] }),
    });
    const away = storeGuardedDecisions(sync("ask_user"), unavailable());
    const asked = away.decideSync!(input("tools/call"));
    expect(asked.decision).toBe("deny");
    expect(asked.reasons.map((r) => r.code)).toEqual(["ALLOWED_BY_RULE", "STORE_UNAVAILABLE"]);
    expect(
      storeGuardedDecisions(sync("allow"), unavailable()).decideSync!(input("tools/call")).decision,
    ).toBe("allow");
    expect(
      storeGuardedDecisions(sync("ask_user"), new MemoryStore()).decideSync!(input("tools/call")).decision,
    ).toBe("ask_user");
    expect(storeGuardedDecisions(policy("allow"), new MemoryStore()).decideSync).toBeUndefined();
  });
});

describe("limits.rate in the gateway", () => {
  it("the call over the limit is a 403 denial with RATE_LIMITED, audited; other principals pass", async () => {
    const dir = mkdtempSync(join(scratch, "gw-"));
    writeFileSync(join(dir, "hello.txt"), "hi\n");
    process.env.PC_RATE_A = "rate-key-a-0123456789abcdef";
    process.env.PC_RATE_B = "rate-key-b-0123456789abcdef";
    const config = validateConfig({
      auth: {
        apiKeys: [
          { id: "a", key: "env:PC_RATE_A", roles: ["user"] },
          { id: "b", key: "env:PC_RATE_B", roles: ["user"] },
        ],
      },
      limits: { rate: { perMinute: 1, burst: 2 } },
      workspace: { roots: ["."] },
      audit: { dir: "audit" },
    });
    const policyData = JSON.parse(
      readFileSync(join(import.meta.dirname, "../../conformance/policy/allow-all.data.json"), "utf8"),
    );
    const services = await createServices(config, dir, { policyData });
    const runtime = createRuntime(config, dir, services);
    const app = createApp({ runtime, services });
    try {
      const call = (key: string) =>
        app.app.request("http://127.0.0.1/v1/tools/workspace__read/call", {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ arguments: { path: "hello.txt" } }),
        });
      expect((await call(process.env.PC_RATE_A)).status).toBe(200);
      expect((await call(process.env.PC_RATE_A)).status).toBe(200);
      const over = await call(process.env.PC_RATE_A);
      expect(over.status).toBe(403);
      const body = (await over.json()) as { status: string; reasons: { code: string }[] };
      expect(body.status).toBe("denied");
      expect(body.reasons.map((r) => r.code)).toContain("RATE_LIMITED");
      expect((await call(process.env.PC_RATE_B)).status).toBe(200);
      const audit = await app.app.request("http://127.0.0.1/v1/audit?decision=deny", {
        headers: { authorization: `Bearer ${process.env.PC_RATE_A}` },
      });
      expect(await audit.text()).toContain("RATE_LIMITED");
    } finally {
      await app.close();
      await runtime.close();
    }
  });
});
