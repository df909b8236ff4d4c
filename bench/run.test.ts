import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const runner = fileURLToPath(new URL("./run.mjs", import.meta.url));
const scratch: string[] = [];

function runBench(benches: Record<string, string>, args: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-bench-"));
  scratch.push(dir);
  const compiled = join(dir, "compiled");
  const results = join(dir, "results");
  mkdirSync(compiled, { recursive: true });
  for (const [name, source] of Object.entries(benches)) writeFileSync(join(compiled, name), source);
  const r = spawnSync(process.execPath, [runner, ...args], {
    encoding: "utf8",
    timeout: 20_000,
    env: { ...process.env, PORTCULLIS_BENCH_DIR: compiled, PORTCULLIS_BENCH_RESULTS: results },
  });
  return { ...r, results };
}

afterEach(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

const good = `export async function run() {
  return [{ name: "demo: speed", unit: "ops/s", figures: { ts: 1000, rust: 4000 }, ratios: { "rust/ts": 4 } }];
}`;

describe("bench/run.mjs", () => {
  it("prints one table and writes the timestamped and latest JSON reports", () => {
    const r = runBench({ "demo.bench.js": good, "helper.js": "throw new Error('not a benchmark')" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/demo: speed\s+\| ops\/s\s+\| ts 1,000 {2}rust 4,000\s+\| rust\/ts 4\.00/);
    const files = readdirSync(r.results).sort();
    expect(files).toHaveLength(2);
    expect(files).toContain("latest.json");
    const report = JSON.parse(readFileSync(join(r.results, "latest.json"), "utf8"));
    expect(report.runs).toEqual([
      expect.objectContaining({
        bench: "demo",
        results: [expect.objectContaining({ figures: { ts: 1000, rust: 4000 } })],
      }),
    ]);
    expect(report.machine.cpus).toBeGreaterThan(0);
  });

  it("reports a failing or malformed benchmark and exits non-zero", () => {
    const r = runBench({
      "a.bench.js": good,
      "b.bench.js": "export async function run() { throw new Error('boom'); }",
      "c.bench.js": "export async function run() { return [{ name: 'x' }]; }",
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("FAILED: Error: boom");
    expect(r.stdout).toContain("FAILED: Error: run() must resolve to BenchResult[]");
    const report = JSON.parse(readFileSync(join(r.results, "latest.json"), "utf8"));
    expect(report.runs.map((x: { bench: string; error?: string }) => [x.bench, Boolean(x.error)])).toEqual([
      ["a", false],
      ["b", true],
      ["c", true],
    ]);
  });

  it("runs only the benchmarks matching the filters, and fails when none match", () => {
    const r = runBench({ "alpha.bench.js": good, "beta.bench.js": good }, ["beta"]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(r.results, "latest.json"), "utf8"));
    expect(report.runs.map((x: { bench: string }) => x.bench)).toEqual(["beta"]);
    expect(runBench({ "alpha.bench.js": good }, ["gamma"]).status).toBe(1);
  });
});
