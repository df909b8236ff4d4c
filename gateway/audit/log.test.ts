import diagnosticsChannel from "node:diagnostics_channel";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuditEnvelope } from "../../contracts/index.js";
import { canonicalize, sha256Hex } from "../../native/index.js";
import { ManualClock } from "../clock.js";
import { type AuditEntry, AuditLog, GENESIS_HASH, verifyAudit } from "./index.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "portcullis-audit-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function entry(i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    v: 1,
    id: `call-${i}`,
    kind: "decision",
    principal: { id: "alice", roles: ["user"], authenticated: true, via: "stdio" },
    target: { kind: "tool", name: "workspace__read" },
    args_digest: sha256Hex(`args-${i}`),
    decision: "allow",
    reasons: [{ code: "ALLOW_READ_ONLY", message: "read-only tool" }],
    ...extra,
  };
}

function lines(dir: string, file = "audit-000001.jsonl"): string[] {
  return readFileSync(join(dir, file), "utf8").split("\n").filter(Boolean);
}

describe("AuditLog", () => {
  it("chains records from the genesis hash and seals each with sha256 of its canonical content", async () => {
    const dir = tempDir();
    const clock = new ManualClock("2026-03-01T12:00:00.000Z");
    const log = AuditLog.open({ dir, clock });
    const a = await log.append(entry(1));
    clock.advance(5);
    const b = await log.append(
      entry(2, { kind: "outcome", outcome: { status: "ok" }, timings: { total_ms: 1.5 } }),
    );
    await log.close();

    expect(a.seq).toBe(1);
    expect(a.prev_hash).toBe(GENESIS_HASH);
    expect(a.ts).toBe("2026-03-01T12:00:00.000Z");
    expect(b.seq).toBe(2);
    expect(b.prev_hash).toBe(a.hash);
    expect(b.ts).toBe("2026-03-01T12:00:00.005Z");
    const { hash, ...rest } = b;
    expect(hash).toBe(sha256Hex(canonicalize(rest)));

    expect(AuditEnvelope.safeParse(a).success).toBe(true);
    expect(AuditEnvelope.parse(b)).toEqual(b);
    const [l1, l2] = lines(dir);
    expect(JSON.parse(l1!)).toEqual(a);
    expect(JSON.parse(l2!)).toEqual(b);
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 2, head: { seq: 2, hash: b.hash } });
  });

  it("round-trips awkward content: unicode, separators, escapes, extreme numbers", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir });
    const awkward = {
      text: 'naïve – 日本語 😀 \u2028\u2029 line\nbreak "quoted" back\\slash \u0000 \t',
      lone: "\ud800 alone",
      numbers: [0, -0, 1e21, 1e-7, 123.456, Number.MAX_SAFE_INTEGER, -1.5e300],
      nested: { z: [{ b: 1, a: [null, true, false] }], é: {}, "": "empty key" },
      // An own "__proto__" key, as JSON.parse makes it from a caller's arguments.
      proto: JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1}') as unknown,
    };
    await log.append(entry(1, { args_redacted: awkward }));
    await log.close();
    const raw = readFileSync(join(dir, "audit-000001.jsonl"), "utf8");
    expect(raw.split("\n")).toHaveLength(2);
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 1 });
    expect(raw).toContain('"__proto__":{"polluted":true}');
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("keeps call order as chain order when many appends are in flight and batches their fsyncs", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir });
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => log.append(entry(i))));
    await log.close();
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(results.map((r) => r.id)).toEqual(Array.from({ length: 500 }, (_, i) => `call-${i}`));
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 500 });
  });

  it("reports written records and failures on the portcullis:audit diagnostics channel", async () => {
    const dir = tempDir();
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    diagnosticsChannel.subscribe("portcullis:audit", listener);
    try {
      const log = AuditLog.open({ dir });
      const env = await log.append(entry(1));
      await log.close();
      expect(seen).toEqual([{ dir: log.dir, envelope: env }]);
    } finally {
      diagnosticsChannel.unsubscribe("portcullis:audit", listener);
    }
  });

  it("fsyncs written-only records by group commit, without anyone waiting", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir });
    for (let i = 1; i <= 3; i++) await log.appendDecision(entry(i));
    expect(log.head.seq).toBe(3);
    await vi.waitFor(() => expect(log.durableSeq).toBe(3), { timeout: 5000 });
    void log.appendWritten(entry(4));
    await log.flush();
    expect(log.durableSeq).toBe(4);
    await log.close();
  });

  it("holds an fsync nobody awaits for the group commit window, never one someone awaits", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir, groupCommitMs: 60_000 });
    for (let i = 1; i <= 3; i++) await log.appendWritten(entry(i));
    await new Promise((r) => setTimeout(r, 100));
    expect(log.durableSeq).toBe(0);
    // A durable append (and with it everything written before) is synced at once.
    await log.append(entry(4));
    expect(log.durableSeq).toBe(4);
    await log.appendWritten(entry(5));
    await log.close();
    expect(log.durableSeq).toBe(5);
    expect(() => AuditLog.open({ dir: tempDir(), groupCommitMs: -1 })).toThrow(/groupCommitMs/);
  });

  it("appendWrittenNow writes before it returns, after records queued earlier, in one write", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir });
    const queued = log.appendWritten(entry(1));
    const now = log.appendWrittenNow(entry(2));
    // Both are on disk already: the queued one first, then this one, chained.
    const onDisk = lines(dir).map(
      (l) => JSON.parse(l) as { id: string; seq: number; prev_hash: string; hash: string },
    );
    expect(onDisk.map((r) => r.id)).toEqual(["call-1", "call-2"]);
    expect(now.seq).toBe(2);
    expect(now.prev_hash).toBe(onDisk[0]!.hash);
    expect((await queued).seq).toBe(1);
    expect(log.appendDecisionNow(entry(3))).toBe(true);
    expect(lines(dir)).toHaveLength(3);
    await log.close();
    expect(() => log.appendWrittenNow(entry(4))).toThrow(/closed/);
    expect((await verifyAudit(dir)).ok).toBe(true);
  });

  it("appendDecisionNow leaves sync=always records to appendDecision and refuses what append refuses", async () => {
    const dir = tempDir();
    const always = AuditLog.open({ dir, sync: "always" });
    expect(always.appendDecisionNow(entry(1))).toBe(false);
    expect(existsSync(join(dir, "audit-000001.jsonl")) ? lines(dir) : []).toHaveLength(0);
    await always.close();
    const other = tempDir();
    const log = AuditLog.open({ dir: other });
    expect(() => log.appendWrittenNow(entry(1, { args_redacted: { n: Number.NaN } }))).toThrow(
      /JSON-compatible/,
    );
    expect(log.appendWrittenNow(entry(2)).seq).toBe(1);
    await log.close();
  });

  it("continues the chain after reopening", async () => {
    const dir = tempDir();
    let log = AuditLog.open({ dir, sync: "always" });
    await log.append(entry(1));
    const second = await log.append(entry(2));
    await log.close();
    log = AuditLog.open({ dir });
    expect(log.head).toEqual({ seq: 2, hash: second.hash });
    const third = await log.appendDecision(entry(3));
    expect(third.prev_hash).toBe(second.hash);
    await log.close();
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 3 });
  });

  it("rotates segments at segmentBytes and verifies across them", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir, segmentBytes: 2048 });
    for (let i = 0; i < 40; i++) await log.appendWritten(entry(i));
    await log.close();
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".jsonl"))
      .sort();
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(2048);
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 40, segments: files.length });

    const reopened = AuditLog.open({ dir, segmentBytes: 2048 });
    expect(reopened.head.seq).toBe(40);
    await reopened.close();
  });

  it("rotates while fsyncs are in flight without losing or misordering records", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir, segmentBytes: 16_384 });
    const all: Promise<unknown>[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 100; i++) all.push(log.append(entry(round * 100 + i)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    await log.close();
    const result = await verifyAudit(dir);
    expect(result).toMatchObject({ ok: true, records: 1000 });
    expect(result.segments).toBeGreaterThan(20);
  });

  it("cuts off a torn final line on open and continues from the last sealed record", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir });
    const last = await log.append(entry(1));
    await log.close();
    const file = join(dir, "audit-000001.jsonl");
    await appendFile(file, '{"v":1,"seq":2,"id":"torn');
    expect(await verifyAudit(dir)).toMatchObject({
      ok: true,
      records: 1,
      tornTail: { file: "audit-000001.jsonl", line: 2 },
    });

    const again = AuditLog.open({ dir });
    expect(again.head).toEqual({ seq: 1, hash: last.hash });
    await again.append(entry(2));
    await again.close();
    expect(lines(dir)).toHaveLength(2);
    const result = await verifyAudit(dir);
    expect(result).toMatchObject({ ok: true, records: 2 });
    expect(result.tornTail).toBeUndefined();
  });

  it("recovers when the torn tail is larger than the read window", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir });
    for (let i = 1; i <= 3; i++) await log.appendWritten(entry(i));
    await log.close();
    const head = log.head;
    // 65,535 torn bytes put the last newline exactly at the start of the first 64 KiB window.
    for (const torn of [65_535, 65_536, 200_000]) {
      await appendFile(join(dir, "audit-000001.jsonl"), "x".repeat(torn));
      const again = AuditLog.open({ dir });
      expect(again.head).toEqual(head);
      await again.close();
      expect(lines(dir)).toHaveLength(3);
    }
  });

  it("refuses to open over a last record whose seal is broken", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir });
    await log.append(entry(1));
    await log.close();
    const file = join(dir, "audit-000001.jsonl");
    writeFileSync(file, readFileSync(file, "utf8").replace("alice", "mallory"));
    expect(() => AuditLog.open({ dir })).toThrow(/last record is invalid/);
  });

  it("rejects entries that are not JSON-compatible without advancing the chain", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir });
    await expect(log.append(entry(1, { timings: { total_ms: Number.NaN } }))).rejects.toMatchObject({
      code: "GW_ERR_AUDIT",
    });
    const ok = await log.append(entry(2));
    expect(ok.seq).toBe(1);
    const closing = log.close();
    await expect(log.append(entry(3))).rejects.toThrow(/closed/);
    await closing;
    await log.close();
    await expect(log.appendWritten(entry(4))).rejects.toThrow(/closed/);
  });

  it.skipIf(!existsSync("/dev/full"))(
    "fails closed when the disk is full: every append rejects",
    async () => {
      const dir = tempDir();
      symlinkSync("/dev/full", join(dir, "audit-000001.jsonl"));
      const log = AuditLog.open({ dir });
      const first = log.append(entry(1));
      const second = log.appendDecision(entry(2));
      await expect(first).rejects.toMatchObject({ code: "GW_ERR_AUDIT" });
      await expect(second).rejects.toThrow(/failed: .*ENOSPC|no space/i);
      await expect(log.append(entry(3))).rejects.toMatchObject({ code: "GW_ERR_AUDIT" });
      await expect(log.flush()).rejects.toMatchObject({ code: "GW_ERR_AUDIT" });
      await log.close();
    },
  );

  it("allows one open log per folder", async () => {
    const dir = tempDir();
    const log = AuditLog.open({ dir });
    expect(() => AuditLog.open({ dir })).toThrow(/already open/);
    await log.close();
    const again = AuditLog.open({ dir });
    await again.close();
  });

  it("refuses a folder locked by a live process and takes over a dead one's lock", async () => {
    const dir = tempDir();
    // The parent of this test process is alive and is not this process.
    writeFileSync(join(dir, ".lock"), `${process.ppid}\n`);
    expect(() => AuditLog.open({ dir })).toThrow(new RegExp(`in use by process ${process.ppid}`));
    writeFileSync(join(dir, ".lock"), "2147483646\n");
    const log = AuditLog.open({ dir });
    expect(readFileSync(join(dir, ".lock"), "utf8")).toBe(`${process.pid}\n`);
    await log.close();
    expect(existsSync(join(dir, ".lock"))).toBe(false);
  });
});
