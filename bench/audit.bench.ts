/**
 * Audit log benchmark: hash-chained records per second with group commit and with sync always,
 * and the latency a call pays before it may execute (`appendDecision`) in each mode, measured
 * side by side in one run. Every figure includes sealing (canonical JSON + sha256) and the write.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { AuditEntry } from "../contracts/index.js";
import { sealRecord } from "../gateway/audit/envelope.js";
import { AuditLog, type AuditSyncMode, verifyAudit } from "../gateway/audit/index.js";
import { nativeStatus, sha256Hex } from "../native/index.js";
import type { BenchResult } from "./types.js";

const ARGS_DIGEST = sha256Hex("bench");

/**
 * A decision record shaped like the pipeline's (principal, target, reasons, policy stamps), with
 * nested members in canonical order as the pipeline builds them; `unordered` gives the same
 * content in the order other producers may use (the general canonicalisation path).
 */
function entry(i: number, unordered = false): AuditEntry {
  return {
    v: 1,
    id: `req-${i}`,
    kind: "decision",
    principal: unordered
      ? { id: "bench-user", roles: ["user"], authenticated: true, via: "api_key" }
      : { authenticated: true, id: "bench-user", roles: ["user"], via: "api_key" },
    session: "session-1",
    target: unordered
      ? {
          kind: "tool",
          name: "everything__echo",
          server: "everything",
          annotations: { readOnlyHint: true },
          definition_hash: ARGS_DIGEST,
          changed: false,
        }
      : {
          annotations: { readOnlyHint: true },
          changed: false,
          definition_hash: ARGS_DIGEST,
          kind: "tool",
          name: "everything__echo",
          server: "everything",
        },
    args_digest: ARGS_DIGEST,
    args_redacted: { message: "hello" },
    decision: "allow",
    reasons: [{ code: "ALLOW_READ_ONLY", message: "read-only tool" }],
    policy_revision: "bench",
    policy_hash: ARGS_DIGEST,
  };
}

async function withLog<T>(sync: AuditSyncMode, fn: (log: AuditLog) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-bench-audit-"));
  const log = AuditLog.open({ dir, sync });
  try {
    return await fn(log);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `callers` concurrent callers each awaiting `wait` before their next record. */
async function concurrent(
  sync: AuditSyncMode,
  wait: "decision" | "durable",
  callers: number,
  ms: number,
): Promise<number> {
  return withLog(sync, async (log) => {
    const append = (i: number) => (wait === "durable" ? log.append(entry(i)) : log.appendDecision(entry(i)));
    let n = 0;
    const until = performance.now() + ms;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (performance.now() < until) await append(n++);
      }),
    );
    return n / ((performance.now() - started) / 1000);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One caller, one record at a time: what a single call waits for before it executes. */
async function latency(sync: AuditSyncMode, samples: number): Promise<{ p50: number; p99: number }> {
  return withLog(sync, async (log) => {
    for (let i = 0; i < 50; i++) await log.appendDecision(entry(i));
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      await log.appendDecision(entry(i));
      times.push((performance.now() - t) * 1000);
    }
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 50), p99: percentile(times, 99) };
  });
}

async function verifyRate(records: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-bench-verify-"));
  try {
    const log = AuditLog.open({ dir });
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < records; i++) pending.push(log.appendWritten(entry(i)));
    await Promise.all(pending);
    await log.close();
    const started = performance.now();
    const result = await verifyAudit(dir);
    if (!result.ok) throw new Error(`benchmark log failed to verify: ${result.firstBad?.reason}`);
    return records / ((performance.now() - started) / 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Cost of sealing alone (canonical JSON + sha256 + line), the CPU floor of every append. */
function sealMicros(count: number, unordered = false): number {
  let prev = "0".repeat(64);
  for (let i = 0; i < 2_000; i++)
    prev = sealRecord(entry(i, unordered), i + 1, new Date().toISOString(), prev).envelope.hash;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    prev = sealRecord(entry(i, unordered), i + 1, new Date().toISOString(), prev).envelope.hash;
  }
  return ((performance.now() - started) * 1000) / count;
}

const round = (n: number, digits = 0): number => Number(n.toFixed(digits));

export async function run(): Promise<BenchResult[]> {
  const seal = sealMicros(50_000);
  const sealUnordered = sealMicros(50_000, true);
  const wide = await concurrent("group", "durable", 1024, 1000);
  const groupDecision = await concurrent("group", "decision", 64, 1000);
  const groupDurable = await concurrent("group", "durable", 64, 1000);
  const alwaysDecision = await concurrent("always", "decision", 64, 1000);
  const groupLatency = await latency("group", 2000);
  const alwaysLatency = await latency("always", 300);
  const verified = await verifyRate(50_000);
  return [
    {
      name: "audit: seal one record",
      unit: "µs",
      figures: {
        [nativeStatus().implementation]: round(seal, 2),
        [`${nativeStatus().implementation}, members unordered`]: round(sealUnordered, 2),
      },
      ratios: { "unordered/ordered": round(sealUnordered / seal, 2) },
      notes:
        "canonical JSON + sha256 + line, no I/O: the CPU floor of each append; nested members in canonical order as the pipeline builds them (one JSON.stringify), and the same record unordered (sorted by the core)",
    },
    {
      name: "audit: group commit, 1,024 concurrent callers",
      unit: "records/s",
      figures: { group: round(wide) },
      notes:
        "each caller awaits append() (after the fsync covering its record) before its next; target ≥ 50,000",
    },
    {
      name: "audit: 64 concurrent callers",
      unit: "records/s",
      figures: {
        "group (until written)": round(groupDecision),
        "group (until fsync)": round(groupDurable),
        "always (until fsync)": round(alwaysDecision),
      },
      ratios: { "group/always": round(groupDecision / alwaysDecision, 2) },
      notes:
        "each caller awaits its record before the next: appendDecision per mode, and append() in group mode",
    },
    {
      name: "audit: wait before a call executes, p50",
      unit: "µs",
      figures: { group: round(groupLatency.p50, 1), always: round(alwaysLatency.p50, 1) },
      ratios: { "always-group (fsync cost, µs)": round(alwaysLatency.p50 - groupLatency.p50, 1) },
      notes: `one sequential caller, appendDecision; p99 group ${round(groupLatency.p99, 1)} µs, always ${round(alwaysLatency.p99, 1)} µs`,
    },
    {
      name: "audit: verify",
      unit: "records/s",
      figures: { verify: round(verified) },
      notes: "verifyAudit over 50,000 records (parse, canonicalise, sha256, chain)",
    },
  ];
}
