import { mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canonicalize, sha256Hex } from "../../native/index.js";
import { AuditLog, listSegments, verifyAudit } from "./index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-verify-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `n` records (seq 1..n) and returns the path of the first segment's file. */
async function writeLog(n: number, segmentBytes?: number): Promise<string> {
  const log = AuditLog.open({ dir, ...(segmentBytes ? { segmentBytes } : {}) });
  for (let i = 1; i <= n; i++) {
    void log.appendWritten({
      v: 1,
      id: `call-${i}`,
      kind: i % 2 ? "decision" : "outcome",
      principal: { id: "bob", roles: [], authenticated: true, via: "api_key" },
      target: { kind: "tool", name: "files__write" },
      args_digest: sha256Hex(String(i)),
    });
  }
  await log.close();
  return join(dir, "audit-000001.jsonl");
}

function readLines(file: string): string[] {
  return readFileSync(file, "utf8").split("\n").slice(0, -1);
}
function writeLines(file: string, lines: string[]): void {
  writeFileSync(file, lines.map((l) => `${l}\n`).join(""));
}
/** Re-seals a record after changing it, as a forger who knows the scheme would. */
function reseal(record: Record<string, unknown>): string {
  const { hash: _old, ...rest } = record;
  const c = canonicalize(rest);
  return `${c.slice(0, -1)},"hash":"${sha256Hex(c)}"}`;
}

describe("verifyAudit", () => {
  it("accepts an intact log and an empty folder", async () => {
    await writeLog(10);
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 10, segments: 1 });
    const empty = mkdtempSync(join(tmpdir(), "portcullis-verify-empty-"));
    expect(await verifyAudit(empty)).toMatchObject({ ok: true, records: 0, segments: 0 });
    rmSync(empty, { recursive: true });
  });

  it("names an edited record", async () => {
    const file = await writeLog(10);
    const lines = readLines(file);
    lines[4] = lines[4]!.replace('"bob"', '"eve"');
    writeLines(file, lines);
    const r = await verifyAudit(dir);
    expect(r.ok).toBe(false);
    expect(r.records).toBe(4);
    expect(r.firstBad).toMatchObject({ seq: 5, file: "audit-000001.jsonl", line: 5, kind: "hash_mismatch" });
    expect(r.firstBad?.reason).toMatch(/edited/);
  });

  it("names the record after an edited and re-sealed one as the chain break", async () => {
    const file = await writeLog(10);
    const lines = readLines(file);
    const rec = JSON.parse(lines[2]!) as Record<string, unknown>;
    rec["principal"] = { id: "eve" };
    lines[2] = reseal(rec);
    writeLines(file, lines);
    const r = await verifyAudit(dir);
    expect(r.firstBad).toMatchObject({ seq: 4, line: 4, kind: "chain_break" });
    expect(r.firstBad?.reason).toContain("seq 3 (audit-000001.jsonl:3)");
  });

  it("names a deleted record", async () => {
    const file = await writeLog(10);
    const lines = readLines(file);
    lines.splice(6, 1);
    writeLines(file, lines);
    const r = await verifyAudit(dir);
    expect(r.firstBad).toMatchObject({ seq: 7, line: 7, kind: "deleted" });
    expect(r.firstBad?.reason).toMatch(/seq 7 is missing .* holds seq 8/);
  });

  it("names a deleted first record", async () => {
    const file = await writeLog(3);
    writeLines(file, readLines(file).slice(1));
    expect((await verifyAudit(dir)).firstBad).toMatchObject({ seq: 1, line: 1, kind: "deleted" });
  });

  it("names an inserted duplicate", async () => {
    const file = await writeLog(10);
    const lines = readLines(file);
    lines.splice(3, 0, lines[2]!);
    writeLines(file, lines);
    expect((await verifyAudit(dir)).firstBad).toMatchObject({ seq: 3, line: 4, kind: "inserted" });
  });

  it("names an inserted forged record even when it is sealed and chained to its predecessor", async () => {
    const file = await writeLog(10);
    const lines = readLines(file);
    const before = JSON.parse(lines[5]!) as Record<string, unknown>;
    const forged = reseal({ ...before, seq: 7, id: "forged", prev_hash: before["hash"] });
    lines.splice(6, 0, forged);
    writeLines(file, lines);
    const r = await verifyAudit(dir);
    expect(r.firstBad).toMatchObject({ seq: 7, line: 7, kind: "inserted" });
    expect(r.records).toBe(6);
  });

  it("names reordered records", async () => {
    const file = await writeLog(10);
    const lines = readLines(file);
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    writeLines(file, lines);
    const r = await verifyAudit(dir);
    expect(r.firstBad).toMatchObject({ seq: 5, line: 4, kind: "reordered" });
    expect(r.firstBad?.reason).toMatch(/seq 5 appears before seq 4/);
  });

  it("names a malformed line and a blank inserted line", async () => {
    const file = await writeLog(5);
    const lines = readLines(file);
    writeLines(file, [...lines.slice(0, 2), "not json", ...lines.slice(2)]);
    expect((await verifyAudit(dir)).firstBad).toMatchObject({ seq: 3, line: 3, kind: "malformed" });
    writeLines(file, [...lines.slice(0, 2), "", ...lines.slice(2)]);
    expect((await verifyAudit(dir)).firstBad).toMatchObject({ line: 3, kind: "malformed" });
  });

  it("detects a missing segment and a renamed one", async () => {
    await writeLog(60, 1500);
    const segments = listSegments(dir);
    expect(segments.length).toBeGreaterThan(3);
    expect(await verifyAudit(dir)).toMatchObject({ ok: true, records: 60 });
    const second = segments[1]!;
    unlinkSync(second.path);
    const r = await verifyAudit(dir);
    expect(r.firstBad).toMatchObject({ file: "audit-000002.jsonl", kind: "missing_segment" });
    expect(r.firstBad?.reason).toContain("audit-000003.jsonl");

    // Closing the gap by renaming the later segments still breaks the seq chain.
    for (const s of segments.slice(2))
      renameSync(s.path, join(dir, `audit-${String(s.index - 1).padStart(6, "0")}.jsonl`));
    const after = await verifyAudit(dir);
    expect(after.firstBad).toMatchObject({ file: "audit-000002.jsonl", line: 1, kind: "deleted" });
  });

  it("with an anchor, detects records cut from the end and a re-sealed rewrite", async () => {
    const file = await writeLog(10);
    const intact = await verifyAudit(dir);
    const anchor = intact.head;
    expect(await verifyAudit(dir, { anchor })).toMatchObject({ ok: true, records: 10 });
    const earlier = JSON.parse(readLines(file)[5]!) as { seq: number; hash: string };
    expect((await verifyAudit(dir, { anchor: { seq: earlier.seq, hash: earlier.hash } })).ok).toBe(true);

    const lines = readLines(file);
    writeLines(file, lines.slice(0, 8));
    expect((await verifyAudit(dir)).ok).toBe(true);
    expect((await verifyAudit(dir, { anchor })).firstBad).toMatchObject({
      seq: 10,
      file: "audit-000001.jsonl",
      line: 9,
      kind: "truncated",
    });

    // A forger rewrites record 3 and re-seals everything after it: the chain verifies, the anchor does not.
    let prevHash = (JSON.parse(lines[1]!) as { hash: string }).hash;
    const forged = lines.map((l, i) => {
      if (i < 2) return l;
      const rec = JSON.parse(l) as Record<string, unknown>;
      if (i === 2) rec["principal"] = { id: "eve", roles: [], authenticated: true, via: "api_key" };
      rec["prev_hash"] = prevHash;
      const sealed = reseal(rec);
      prevHash = (JSON.parse(sealed) as { hash: string }).hash;
      return sealed;
    });
    writeLines(file, forged);
    expect((await verifyAudit(dir)).ok).toBe(true);
    expect((await verifyAudit(dir, { anchor })).firstBad).toMatchObject({
      seq: 10,
      line: 10,
      kind: "rewritten",
    });
  });

  it("detects a missing first segment", async () => {
    await writeLog(30, 1500);
    unlinkSync(listSegments(dir)[0]!.path);
    expect((await verifyAudit(dir)).firstBad).toMatchObject({
      seq: 1,
      file: "audit-000001.jsonl",
      kind: "missing_segment",
    });
  });
});
