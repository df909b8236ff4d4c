/**
 * REST tool calls (`POST /v1/tools/workspace__list/call` on a folder of three files) at 1, 32 and
 * 128 concurrent clients: calls/s and p50/p99 latency, with in-process state and with shared state
 * in a real `redis-server` (started here on a free loopback port), side by side in one run. Both
 * gateways are `portcullis serve` processes with the same config: policy (allow-all data) and
 * audit (group commit) on, a per-principal rate limit high enough never to refuse (so every call
 * takes a token from the store: one Lua script on Redis) and a session on every call (so every
 * call publishes call.started and call.completed to the store: two more scripts and a pub/sub
 * fan-out on Redis). Every process started here is stopped before `run()` resolves.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { freePort, startRedisServer } from "../gateway/store/redis-server.js";
import type { BenchResult } from "./types.js";

// Compiled to dist/bench/: the repository root is two folders up.
const root = resolve(import.meta.dirname, "../..");
const KEY = "bench-rest-key-0123456789abcdef";
const LEVELS: Array<{ clients: number; calls: number }> = [
  { clients: 1, calls: 600 },
  { clients: 32, calls: 2_400 },
  { clients: 128, calls: 3_200 },
];
const WARMUP = 200;

async function gateway(dir: string, store?: string): Promise<{ child: ChildProcess; base: string }> {
  mkdirSync(dir, { recursive: true });
  for (const f of ["a.txt", "b.txt", "c.txt"]) writeFileSync(join(dir, f), `${f}\n`);
  writeFileSync(join(dir, "data.json"), readFileSync(join(root, "conformance/policy/allow-all.data.json")));
  const port = await freePort();
  writeFileSync(
    join(dir, "portcullis.json"),
    JSON.stringify({
      server: { host: "127.0.0.1", port },
      auth: { apiKeys: [{ id: "bench", key: "env:PC_BENCH_REST_KEY", roles: ["user"] }] },
      policy: { data: "data.json" },
      limits: { rate: { perMinute: 1_000_000, burst: 1_000_000 } },
      workspace: { roots: ["."] },
      audit: { dir: "audit" },
    }),
  );
  const args = [join(root, "bin/portcullis.js"), "serve", "--config", join(dir, "portcullis.json")];
  if (store) args.push("--store", store);
  const child = spawn(process.execPath, args, {
    cwd: dir,
    env: { ...process.env, PC_BENCH_REST_KEY: KEY },
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise<void>((done, fail) => {
    let log = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`gateway did not start: ${log}`));
    }, 20_000);
    child.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      if (log.includes("listening on")) {
        clearTimeout(timer);
        done();
      }
    });
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

async function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exit;
  clearTimeout(timer);
}

async function call(base: string, session: string): Promise<void> {
  const r = await fetch(`${base}/v1/tools/workspace__list/call`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ arguments: { path: "." }, session }),
  });
  const body = (await r.json()) as { status?: string };
  if (r.status !== 200 || body.status !== "ok")
    throw new Error(`call failed: ${r.status} ${JSON.stringify(body)}`);
}

/** `calls` calls spread over `clients` concurrent loops: calls/s and latency percentiles (ms). */
async function measure(base: string, clients: number, calls: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      while (next < calls) {
        next += 1;
        const t = performance.now();
        await call(base, `bench-session-${i}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { rate: calls / seconds, p50: pct(0.5), p99: pct(0.99) };
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

export async function run(): Promise<BenchResult[]> {
  const scratch = mkdtempSync(join(tmpdir(), "portcullis-bench-rest-"));
  const redis = await startRedisServer();
  const children: ChildProcess[] = [];
  try {
    const memory = await gateway(join(scratch, "memory"));
    children.push(memory.child);
    const shared = await gateway(join(scratch, "redis"), redis.url);
    children.push(shared.child);
    for (const g of [memory, shared]) await measure(g.base, 8, WARMUP);
    const results: BenchResult[] = [];
    for (const { clients, calls } of LEVELS) {
      // Interleaved halves, so drift on the shared machine hits both variants alike.
      const m1 = await measure(memory.base, clients, calls / 2);
      const r1 = await measure(shared.base, clients, calls / 2);
      const m2 = await measure(memory.base, clients, calls / 2);
      const r2 = await measure(shared.base, clients, calls / 2);
      const m = { rate: (m1.rate + m2.rate) / 2, p50: (m1.p50 + m2.p50) / 2, p99: Math.max(m1.p99, m2.p99) };
      const r = { rate: (r1.rate + r2.rate) / 2, p50: (r1.p50 + r2.p50) / 2, p99: Math.max(r1.p99, r2.p99) };
      const notes = `${calls} calls per variant in two interleaved halves; rate limit + session events on`;
      results.push(
        {
          name: `rest: tools/call throughput, ${clients} client${clients > 1 ? "s" : ""}`,
          unit: "calls/s",
          figures: { memory: round(m.rate, 0), redis: round(r.rate, 0) },
          ratios: { "redis/memory": round(r.rate / m.rate) },
          notes,
        },
        {
          name: `rest: tools/call p50, ${clients} client${clients > 1 ? "s" : ""}`,
          unit: "ms",
          figures: { memory: round(m.p50), redis: round(r.p50) },
          ratios: { "redis/memory": round(r.p50 / m.p50) },
          notes,
        },
        {
          name: `rest: tools/call p99, ${clients} client${clients > 1 ? "s" : ""}`,
          unit: "ms",
          figures: { memory: round(m.p99), redis: round(r.p99) },
          ratios: { "redis/memory": round(r.p99 / m.p99) },
          notes,
        },
      );
    }
    return results;
  } finally {
    await Promise.all(children.map(stopped));
    await redis.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
