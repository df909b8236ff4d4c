import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../cli.js";
import { sha256Hex } from "../../native/index.js";
import { followAudit } from "./cli.js";
import { type AuditEntry, AuditLog } from "./index.js";

let dir: string;
let out: string[];
let err: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-audit-cli-"));
  out = [];
  err = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

function entry(i: number): AuditEntry {
  return {
    v: 1,
    id: `req-${i}`,
    kind: "decision",
    principal: { id: "carol", roles: [], authenticated: false, via: "anonymous" },
    target: { kind: "tool", name: "memory__search" },
    args_digest: sha256Hex(`a${i}`),
  };
}

async function writeLog(n: number, opts: { segmentBytes?: number } = {}): Promise<void> {
  const log = AuditLog.open({ dir, ...opts });
  for (let i = 1; i <= n; i++) await log.appendWritten(entry(i));
  await log.close();
}

describe("portcullis audit", () => {
  it("verify exits 0 on an intact log and 1 naming the first tampered record", async () => {
    await writeLog(5);
    expect(await main(["audit", "verify", "--dir", dir])).toBe(0);
    expect(out.join("\n")).toMatch(/OK — 5 record\(s\) in 1 segment\(s\); head 5:[0-9a-f]{64}/);

    const file = join(dir, "audit-000001.jsonl");
    writeFileSync(file, readFileSync(file, "utf8").replace('"req-3"', '"req-X"'));
    expect(await main(["audit", "verify", "--dir", dir])).toBe(1);
    expect(err.join("\n")).toContain("FAILED at audit-000001.jsonl:3 (seq 3, hash_mismatch)");

    out = [];
    expect(await main(["audit", "verify", "--dir", dir, "--json"])).toBe(1);
    expect(JSON.parse(out.join(""))).toMatchObject({ ok: false, records: 2, firstBad: { seq: 3, line: 3 } });
  });

  it("verify --anchor proves an earlier head is still in the log", async () => {
    await writeLog(4);
    expect(await main(["audit", "verify", "--dir", dir])).toBe(0);
    const head = /head (\d+:[0-9a-f]{64})/.exec(out.join("\n"))![1]!;
    expect(await main(["audit", "verify", "--dir", dir, "--anchor", head])).toBe(0);
    const file = join(dir, "audit-000001.jsonl");
    const lines = readFileSync(file, "utf8").split("\n");
    writeFileSync(file, `${lines.slice(0, 2).join("\n")}\n`);
    expect(await main(["audit", "verify", "--dir", dir])).toBe(0);
    expect(await main(["audit", "verify", "--dir", dir, "--anchor", head])).toBe(1);
    expect(err.join("\n")).toMatch(/truncated\): the log ends at seq 2 but seq 4 was recorded earlier/);
    expect(await main(["audit", "verify", "--dir", dir, "--anchor", "4:xyz"])).toBe(2);
  });

  it("verify takes the folder from the config's audit.dir", async () => {
    await writeLog(2);
    const config = join(dir, "portcullis.json");
    writeFileSync(config, JSON.stringify({ audit: { dir: "." } }));
    expect(await main(["audit", "verify", "--config", config])).toBe(0);
    expect(out.join("\n")).toContain("2 record(s)");
  });

  it("tail prints the newest records across segments, oldest first", async () => {
    await writeLog(30, { segmentBytes: 1200 });
    expect(await main(["audit", "tail", "-n", "4", "--dir", dir])).toBe(0);
    const seqs = out.map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(seqs).toEqual([27, 28, 29, 30]);
  });

  it("tail reads large segments from the end", async () => {
    const log = AuditLog.open({ dir });
    const big = "y".repeat(30_000);
    for (let i = 1; i <= 12; i++) await log.appendWritten({ ...entry(i), args_redacted: { big } });
    await log.close();
    expect(await main(["audit", "tail", "-n", "5", "--dir", dir])).toBe(0);
    expect(out.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([8, 9, 10, 11, 12]);
    out.length = 0;
    expect(await main(["audit", "tail", "-n", "50", "--dir", dir])).toBe(0);
    expect(out).toHaveLength(12);
    out.length = 0;
    expect(await main(["audit", "tail", "-n", "0", "--dir", dir])).toBe(0);
    expect(out).toEqual([]);
  });

  it("follows appended records across a rotation", async () => {
    await writeLog(3, { segmentBytes: 1200 });
    const seen: number[] = [];
    const stop = new AbortController();
    const following = followAudit(dir, (l) => seen.push((JSON.parse(l) as { seq: number }).seq), stop.signal);
    const log = AuditLog.open({ dir, segmentBytes: 1200 });
    for (let i = 4; i <= 12; i++) await log.append(entry(i));
    await log.close();
    await vi.waitFor(() => expect(seen).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]), { timeout: 5000 });
    stop.abort();
    await following;
  });

  it("rejects an unknown subcommand and a bad -n", async () => {
    expect(await main(["audit", "rewrite"])).toBe(2);
    expect(err.join("\n")).toContain("expected 'verify' or 'tail'");
    expect(await main(["audit", "tail", "-n", "x", "--dir", dir])).toBe(2);
    expect(await main(["audit", "verify", "--dir", join(dir, "missing")])).toBe(1);
    expect(err.join("\n")).toContain("no audit log at");
  });
});
