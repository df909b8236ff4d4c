import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../native/index.js";
import { verifyAudit } from "./audit/index.js";
import { ManualClock } from "./clock.js";
import { validateConfig } from "./config/load.js";
import { openLocalState } from "./local-state.js";

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "portcullis-state-"));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe("openLocalState", () => {
  it("opens audit, pins, approvals and events from the config, relative to its folder", async () => {
    const config = validateConfig({ audit: { dir: "logs/audit", sync: "always", segmentBytes: 1 << 20 } });
    const clock = new ManualClock("2026-07-01T00:00:00.000Z");
    const state = openLocalState(config, base, { clock });
    expect(state.audit.sync).toBe("always");
    expect(state.audit.dir).toBe(join(base, "logs/audit"));

    const env = await state.auditPort.append({
      v: 1,
      id: "r1",
      kind: "decision",
      principal: { id: "u", roles: [], authenticated: true, via: "stdio" },
      target: { kind: "tool", name: "t" },
      args_digest: sha256Hex("{}"),
    });
    expect(env).toMatchObject({ seq: 1, ts: "2026-07-01T00:00:00.000Z" });

    state.pins.check("t", { name: "t" });
    expect(existsSync(join(base, "portcullis.lock"))).toBe(true);
    const { id } = await state.approvals.request({
      principal: "u",
      tool: "t",
      args_digest: env.args_digest,
      prompt: "ok?",
      ttl_s: 5,
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(state.events.publish("s", "call.started", { call_id: "r1", tool: "t" }).ts).toBe(
      "2026-07-01T00:00:00.000Z",
    );

    await state.close();
    expect(await verifyAudit(join(base, "logs/audit"))).toMatchObject({ ok: true, records: 1 });
  });

  it("gives the audit log the configured group commit window (default 50 ms)", async () => {
    expect(validateConfig({}).audit.groupCommitMs).toBe(50);
    expect(() => validateConfig({ audit: { groupCommitMs: -1 } })).toThrow(/audit\.groupCommitMs/);
    expect(() => validateConfig({ audit: { groupCommitMs: 60_001 } })).toThrow(/audit\.groupCommitMs/);
    const entry = {
      v: 1 as const,
      id: "r1",
      kind: "decision" as const,
      principal: { id: "u", roles: [], authenticated: true, via: "stdio" as const },
      target: { kind: "tool" as const, name: "t" },
      args_digest: sha256Hex("{}"),
    };
    // A long window: the written record waits for its fsync (until close makes it durable).
    const held = openLocalState(validateConfig({ audit: { dir: "held", groupCommitMs: 60_000 } }), base);
    await held.auditPort.append(entry);
    await new Promise((r) => setTimeout(r, 150));
    expect(held.audit.durableSeq).toBe(0);
    await held.close();
    expect(held.audit.durableSeq).toBe(1);
    // No window: the fsync starts as soon as the record is written.
    const prompt = openLocalState(validateConfig({ audit: { dir: "prompt", groupCommitMs: 0 } }), base);
    await prompt.auditPort.append(entry);
    await vi.waitFor(() => expect(prompt.audit.durableSeq).toBe(1), { timeout: 5_000 });
    await prompt.close();
  });
});
