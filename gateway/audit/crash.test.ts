/**
 * Crash recovery: a child process appends from several concurrent writers and prints each seq
 * once its append resolved; the test kill -9s it mid-stream, reopens and verifies the log, and
 * checks that every acknowledged record is on disk. The child runs the real modules from dist/
 * (run `npm run build` first).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AuditLog, listSegments, verifyAudit } from "./index.js";

const repo = resolve(import.meta.dirname, "../..");
// The child runs the built modules (`npm test` builds before vitest), exactly what the CLI runs.
const logModule = join(repo, "dist", "gateway", "audit", "index.js");
const work = mkdtempSync(join(tmpdir(), "portcullis-crash-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CHILD = `
import { AuditLog } from ${JSON.stringify(logModule)};
const [dir, mode, how] = process.argv.slice(2);
const log = AuditLog.open({ dir, sync: mode, segmentBytes: 256 * 1024 });
let i = 0;
async function writer(w) {
  for (;;) {
    const entry = { v: 1, id: "w" + w + "-" + i++, kind: "decision", principal: { id: "p" + w },
      target: { kind: "tool", name: "t" }, args_digest: "d".repeat(64), args_redacted: { pad: "x".repeat(200) } };
    const env = await (how === "durable" ? log.append(entry) : log.appendDecision(entry));
    process.stdout.write(env.seq + "\\n");
    // A gateway call does I/O between appends; yielding also lets fsync callbacks run.
    await new Promise((r) => setImmediate(r));
  }
}
for (let w = 0; w < 8; w++) writer(w);
`;

function runUntilKilled(dir: string, mode: string, how: string, minAcks: number): Promise<number[]> {
  expect(existsSync(logModule), "run `npm run build` first").toBe(true);
  const script = join(work, `child-${mode}-${how}.mjs`);
  writeFileSync(script, CHILD);
  return new Promise((done, fail) => {
    const child: ChildProcess = spawn(process.execPath, [script, dir, mode, how], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acked: number[] = [];
    let buffered = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`child did not reach ${minAcks} acknowledgements in time: ${stderr}`));
    }, 20_000);
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout!.on("data", (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      for (const p of parts) acked.push(Number(p));
      if (acked.length >= minAcks && !child.killed) child.kill("SIGKILL");
    });
    child.on("exit", (_code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") fail(new Error(`child exited on its own: ${stderr}`));
      else done(acked);
    });
  });
}

async function allSeqs(dir: string): Promise<Set<number>> {
  const seqs = new Set<number>();
  for (const seg of listSegments(dir)) {
    for (const line of readFileSync(seg.path, "utf8").split("\n")) {
      if (line) seqs.add((JSON.parse(line) as { seq: number }).seq);
    }
  }
  return seqs;
}

describe("audit log under kill -9", () => {
  for (const [mode, how] of [
    ["group", "decision"],
    ["always", "decision"],
    ["group", "durable"],
  ] as const) {
    it(`keeps every acknowledged record (sync ${mode}, ${how} appends)`, async () => {
      const dir = join(work, `log-${mode}-${how}`);
      const acked = await runUntilKilled(dir, mode, how, 3000);
      expect(acked.length).toBeGreaterThanOrEqual(3000);

      const log = AuditLog.open({ dir });
      const head = log.head.seq;
      await log.append({
        v: 1,
        id: "after-crash",
        kind: "admin",
        principal: { id: "test", roles: [], authenticated: true, via: "stdio" },
        target: { kind: "tool", name: "none" },
        args_digest: "0".repeat(64),
      });
      await log.close();

      const result = await verifyAudit(dir);
      expect(result).toMatchObject({ ok: true, records: head + 1 });
      expect(listSegments(dir).length).toBeGreaterThan(1);
      const onDisk = await allSeqs(dir);
      const missing = acked.filter((s) => !onDisk.has(s));
      expect(missing).toEqual([]);
      expect(Math.max(...acked)).toBeLessThanOrEqual(head);
    });
  }
});
