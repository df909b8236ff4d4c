import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRegisteredReasonCode, PolicyDecision, type PolicyInput } from "../contracts/index.js";
import { writeBundleArchive } from "./bundle/archive.js";
import { defaultBundlePath, readTarGz } from "./bundle.js";
import { nativePolicyBinding } from "./native-engine.js";
import {
  AUTO_ENGINE,
  createDecisionService,
  type DecisionMessage,
  decisionIdFor,
  nextDecisionId,
  RESULT_MEMO_SIZE,
  ResultMemo,
  type StampedDecision,
} from "./service.js";

const readOnly = {
  v: 1,
  action: "tools/call",
  principal: { id: "alice", roles: ["user"], authenticated: true, via: "api_key" },
  target: { kind: "tool", name: "docs__search", server: "docs", annotations: { readOnlyHint: true } },
  arguments: { q: "x" },
  data_classes: [],
  context: { time: "2026-11-24T10:00:00Z", request_id: "r1", transport: "http" },
} as PolicyInput;

/** A bundle archive with the given files, written by the one deterministic archive writer. */
function tarGz(files: Record<string, Uint8Array>): Buffer {
  return writeBundleArchive(Object.entries(files));
}

describe("engine selection", () => {
  it("auto picks the engine measured faster (TS: Rust through napi measured ~10% slower)", async () => {
    const svc = await createDecisionService({ engine: "auto" });
    expect(svc.engine).toBe(AUTO_ENGINE);
    expect((await svc.decide(readOnly)).engine).toBe(AUTO_ENGINE);
  });
});

const engines = nativePolicyBinding().binding ? (["ts", "rust"] as const) : (["ts"] as const);
const original = readTarGz(readFileSync(defaultBundlePath()));

describe.each(engines)("decision service (%s engine)", (engine) => {
  it("stamps decisions and validates against the contract", async () => {
    const svc = await createDecisionService({ engine });
    const d = await svc.decide(readOnly);
    expect(d.decision).toBe("allow");
    expect(d.engine).toBe(engine);
    expect(d.revision).toBe(svc.revision);
    expect(d.revision).toMatch(/^[0-9a-f]{32}$/);
    expect(d.policy_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(d.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    const { decision_id: _i, revision: _r, policy_hash: _p, engine: _e, cached: _c, ...plain } = d;
    expect(PolicyDecision.safeParse(plain).success).toBe(true);
    await svc.close();
  });

  it("caches cacheable decisions, ignoring time and request id", async () => {
    const svc = await createDecisionService({ engine, cacheSize: 10 });
    const first = await svc.decide(readOnly);
    const second = await svc.decide({
      ...readOnly,
      context: { ...readOnly.context, request_id: "r2", time: "2027-01-01T00:00:00Z" },
    });
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    expect(second.decision_id).not.toBe(first.decision_id);
    const other = await svc.decide({
      ...readOnly,
      principal: { ...readOnly.principal, authenticated: false },
    });
    expect(other.cached).toBe(false);
    expect(other.decision).toBe("deny");
    const off = await createDecisionService({ engine, cacheSize: 0 });
    await off.decide(readOnly);
    expect((await off.decide(readOnly)).cached).toBe(false);
  });

  it("no bundle → deny POLICY_NO_BUNDLE", async () => {
    const svc = await createDecisionService({
      engine,
      bundlePath: join(tmpdir(), "portcullis-missing.tar.gz"),
    });
    const d = await svc.decide(readOnly);
    expect(d.decision).toBe("deny");
    expect(d.reasons.map((r) => r.code)).toEqual(["POLICY_NO_BUNDLE"]);
    expect(svc.revision).toBe("none");
  });

  it("corrupted policy.wasm → deny POLICY_ERROR, never a crash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "portcullis-policy-"));
    const wasm = Buffer.from(original.get("policy.wasm")!);
    for (let i = 200; i < 400; i++) wasm[i] = (wasm[i] ?? 0) ^ 0x5a;
    const path = join(dir, "bundle.tar.gz");
    writeFileSync(
      path,
      tarGz({
        ".manifest": Buffer.from('{"revision":"bad"}'),
        "policy.wasm": wasm,
        "data.json": original.get("data.json")!,
      }),
    );
    const svc = await createDecisionService({ engine, bundlePath: path });
    const d = await svc.decide(readOnly);
    expect(d.decision).toBe("deny");
    expect(d.reasons[0]?.code).toBe("POLICY_ERROR");
    expect(isRegisteredReasonCode("POLICY_ERROR")).toBe(true);
  });

  it("replacement data changes the revision and the decisions", async () => {
    const allowAll = readFileSync(
      new URL("../conformance/policy/allow-all.data.json", import.meta.url),
      "utf8",
    );
    const svc = await createDecisionService({ engine, data: allowAll });
    expect(svc.revision).toMatch(/\+data\.[0-9a-f]{12}$/);
    const write = {
      ...readOnly,
      target: { kind: "tool", name: "shell__exec", annotations: { destructiveHint: true } },
    } as PolicyInput;
    expect((await svc.decide(write)).decision).toBe("allow");
    const strict = await createDecisionService({ engine });
    expect((await strict.decide(write)).decision).toBe("ask_user");
  });

  it("activate swaps bundles atomically and keeps the old one on failure", async () => {
    const svc = await createDecisionService({ engine });
    await svc.decide(readOnly);
    expect((await svc.decide(readOnly)).cached).toBe(true);
    const before = svc.revision;
    await expect(svc.activate({ bundlePath: join(tmpdir(), "portcullis-missing.tar.gz") })).rejects.toThrow(
      /not activated/,
    );
    expect(svc.revision).toBe(before);
    expect((await svc.decide(readOnly)).decision).toBe("allow");
    await svc.activate({ data: { portcullis: { settings: { rules: [] } } } });
    expect(svc.revision).not.toBe(before);
    const after = await svc.decide(readOnly);
    expect(after.cached).toBe(false);
  });

  it("publishes every decision on portcullis:decision", async () => {
    const svc = await createDecisionService({ engine });
    const seen: DecisionMessage[] = [];
    const listener = (m: unknown) => seen.push(m as DecisionMessage);
    subscribe("portcullis:decision", listener);
    try {
      const d = await svc.decide(readOnly);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.decision.decision_id).toBe(d.decision_id);
      expect(seen[0]?.input).toBe(readOnly);
    } finally {
      unsubscribe("portcullis:decision", listener);
    }
  });

  it("an unserialisable member the policy reads fails closed", async () => {
    const svc = await createDecisionService({ engine, cacheSize: 0 });
    const big = { ...readOnly, data_classes: [1n] } as unknown as PolicyInput;
    const d = await svc.decide(big);
    expect(d.reasons[0]?.code).toBe("POLICY_ERROR");
    expect(d.reasons[0]?.message).toMatch(/cannot be serialised/);
    const cached = await createDecisionService({ engine });
    await cached.decide(readOnly);
    expect((await cached.decide(big)).reasons[0]?.code).toBe("POLICY_ERROR");
    // The default bundle's projection drops a tools/call's arguments: they are never serialised.
    const unread = await svc.decide({ ...readOnly, arguments: { n: 1n } } as unknown as PolicyInput);
    expect(unread.reasons[0]?.code).toBe("READ_ONLY_ALLOWED");
  });

  it("a cache hit carries the same decision with a fresh stamp", async () => {
    const svc = await createDecisionService({ engine });
    const strip = ({ decision_id: _i, cached: _c, ...rest }: StampedDecision) => rest;
    const ask = {
      ...readOnly,
      target: { kind: "tool", name: "t__rm", annotations: { destructiveHint: true } },
    };
    const first = await svc.decide(ask as PolicyInput);
    const hit = await svc.decide(JSON.parse(JSON.stringify(ask)) as PolicyInput);
    expect(first.decision).toBe("ask_user");
    expect(hit.cached).toBe(true);
    expect(strip(hit)).toEqual(strip(first));
  });

  it("caches by the projected input: other arguments of a tool call hit, a kept member misses", async () => {
    const svc = await createDecisionService({ engine });
    expect((await svc.decide(readOnly)).cached).toBe(false);
    const other = {
      ...readOnly,
      arguments: { q: "other", n: 2 },
      context: { ...readOnly.context, request_id: "r2" },
    };
    expect((await svc.decide(other as PolicyInput)).cached).toBe(true);
    const approver = { ...readOnly, principal: { ...readOnly.principal, roles: ["approver"] } };
    expect((await svc.decide(approver as PolicyInput)).cached).toBe(false);
    expect((await svc.decide(approver as PolicyInput)).cached).toBe(true);
  });
});

describe.each(engines)("decideSync (%s engine)", (engine) => {
  const strip = ({ decision_id: _i, ...rest }: StampedDecision) => rest;

  it("returns the decision decide() resolves to, sharing its cache", async () => {
    const svc = await createDecisionService({ engine });
    const first = svc.decideSync(readOnly);
    expect(first).not.toBeInstanceOf(Promise);
    expect(first.cached).toBe(false);
    expect(first.decision).toBe("allow");
    const viaAsync = await svc.decide(JSON.parse(JSON.stringify(readOnly)) as PolicyInput);
    expect(viaAsync.cached).toBe(true);
    expect(strip(viaAsync)).toEqual({ ...strip(first), cached: true });
    const hit = svc.decideSync({ ...readOnly, arguments: { q: "other" } } as PolicyInput);
    expect(hit.cached).toBe(true);
    expect(hit.decision_id).not.toBe(viaAsync.decision_id);
    const uncached = await createDecisionService({ engine, cacheSize: 0 });
    expect(strip(uncached.decideSync(readOnly))).toEqual(strip(await uncached.decide(readOnly)));
  });

  it("fails closed like decide(): no bundle, a closed service, an unserialisable kept member", async () => {
    const none = await createDecisionService({
      engine,
      bundlePath: join(tmpdir(), "portcullis-missing.tar.gz"),
    });
    expect(none.decideSync(readOnly).reasons.map((r) => r.code)).toEqual(["POLICY_NO_BUNDLE"]);
    const svc = await createDecisionService({ engine });
    const big = svc.decideSync({ ...readOnly, data_classes: [1n] } as unknown as PolicyInput);
    expect(big.decision).toBe("deny");
    expect(big.reasons[0]?.code).toBe("POLICY_ERROR");
    expect(svc.decideSync(readOnly).decision).toBe("allow");
    await svc.close();
    const closed = svc.decideSync(readOnly);
    expect(closed.decision).toBe("deny");
    expect(closed.reasons[0]?.code).toBe("POLICY_ERROR");
  });

  it("publishes on portcullis:decision", async () => {
    const svc = await createDecisionService({ engine });
    const seen: DecisionMessage[] = [];
    const listener = (m: unknown) => seen.push(m as DecisionMessage);
    subscribe("portcullis:decision", listener);
    try {
      const d = svc.decideSync(readOnly);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.decision).toBe(d);
      expect(seen[0]?.input).toBe(readOnly);
      expect(seen[0]?.duration_ns).toBeGreaterThan(0);
    } finally {
      unsubscribe("portcullis:decision", listener);
    }
  });
});

describe("decision ids", () => {
  it("are UUID-shaped (version 4, RFC variant) and unique", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(nextDecisionId());
    expect(ids.size).toBe(10_000);
    for (const id of [...ids].slice(0, 10)) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    const prefix = nextDecisionId().slice(0, 24);
    for (const n of [0, 1, 255, 256, 0xffffff, 0x1000000, 0x1234567890ab, 2 ** 48 - 1]) {
      expect(decisionIdFor(n)).toBe(prefix + n.toString(16).padStart(12, "0"));
    }
  });
});

describe("result memo", () => {
  const allowText =
    '[{"result":{"v":1,"decision":"allow","reasons":[{"code":"READ_ONLY_ALLOWED","message":"m"}],"obligations":{}}}]';

  it("returns the same frozen decision for the same result text, and parses each new text", () => {
    const memo = new ResultMemo();
    const a = memo.decision(allowText);
    expect(a.decision).toBe("allow");
    expect(Object.isFrozen(a) && Object.isFrozen(a.reasons)).toBe(true);
    expect(memo.decision(allowText)).toBe(a);
    const deny = memo.decision(allowText.replace('"allow"', '"deny"'));
    expect(deny.decision).toBe("deny");
    expect(deny).not.toBe(a);
  });

  it("never remembers a fail-closed decision and fails closed on bad results", () => {
    const memo = new ResultMemo();
    expect(memo.decision("[]").reasons[0]?.code).toBe("POLICY_UNDEFINED");
    const bad = memo.decision(
      '[{"result":{"v":1,"decision":"allow","reasons":[{"code":"NOPE","message":"m"}],"obligations":{}}}]',
    );
    expect(bad.decision).toBe("deny");
    expect(bad.reasons[0]?.code).toBe("POLICY_ERROR");
    expect(Object.isFrozen(memo.decision("[]"))).toBe(false);
  });

  it("starts over when full instead of growing", () => {
    const memo = new ResultMemo();
    const first = memo.decision(allowText);
    for (let i = 0; i < RESULT_MEMO_SIZE; i++) memo.decision(allowText.replace('"m"', `"m${i}"`));
    const again = memo.decision(allowText);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });
});
