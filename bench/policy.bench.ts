/**
 * Policy decision latency on the default bundle with a realistic tools/call input: the raw
 * engines (TS on opa-wasm, Rust on wasmtime through napi, and Rust in-process via the
 * portcullis-policy binary, which has no napi crossing) on the whole and on the projected input
 * text, the full decision service uncached (project or serialise, evaluate, memo/parse, stamp)
 * with the bundle's input projection and with the same bundle stripped of it, side by side, and a
 * decision-cache hit (per call, and the mean over batches of 100 calls, which leaves the cost of
 * reading the clock out). Per-call samples, p50/p99, and each p50 against the target.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PolicyInput } from "../contracts/index.js";
import { writeBundleArchive } from "../policies/bundle/archive.js";
import { defaultBundlePath, loadBundle, readTarGz } from "../policies/bundle.js";
import type { PolicyEvaluator } from "../policies/engine.js";
import { createRustEvaluator, nativePolicyBinding } from "../policies/native-engine.js";
import { InputProjector } from "../policies/projection.js";
import { createDecisionService } from "../policies/service.js";
import { createTsEvaluator } from "../policies/wasm-engine.js";
import type { BenchResult } from "./types.js";

const SAMPLES = 20_000;
const WARMUP = 3_000;
const TARGET_TS_US = 10;
const TARGET_RUST_US = 3;
const TARGET_HIT_US = 1;

/** What a gateway sends for an ordinary tool call: a few arguments, annotations, a finding. */
export const realisticInput = {
  v: 1,
  action: "tools/call",
  principal: { id: "alice@example.com", roles: ["user", "dev"], authenticated: true, via: "jwt" },
  target: {
    kind: "tool",
    name: "workspace__search",
    server: "workspace",
    annotations: { title: "Search files", readOnlyHint: true, openWorldHint: false },
    definition_hash: "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea",
    changed: false,
  },
  arguments: { query: "TODO fixme", glob: "src/**/*.ts", max_results: 50, case_sensitive: false },
  data_classes: ["email"],
  findings: [{ class: "email", detector: "email", path: "/query" }],
  context: { time: "2026-11-24T10:00:00Z", request_id: "req-0001", transport: "http", session: "s-1" },
} as PolicyInput;

function quantiles(ns: number[]): { p50: number; p99: number } {
  ns.sort((a, b) => a - b);
  const at = (q: number) => (ns[Math.floor((ns.length - 1) * q)] ?? Number.NaN) / 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

function timeSync(fn: () => unknown): { p50: number; p99: number } {
  for (let i = 0; i < WARMUP; i++) fn();
  const ns: number[] = new Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const t = process.hrtime.bigint();
    fn();
    ns[i] = Number(process.hrtime.bigint() - t);
  }
  return quantiles(ns);
}

/**
 * Two variants timed alternately, sample by sample, so that both see the same machine state (a
 * noisy neighbour or a GC slows both, not whichever ran second).
 */
async function timePair(
  a: () => unknown,
  b: () => unknown,
): Promise<[{ p50: number; p99: number }, { p50: number; p99: number }]> {
  for (let i = 0; i < WARMUP; i++) {
    await a();
    await b();
  }
  const na: number[] = new Array(SAMPLES);
  const nb: number[] = new Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    let t = process.hrtime.bigint();
    await a();
    na[i] = Number(process.hrtime.bigint() - t);
    t = process.hrtime.bigint();
    await b();
    nb[i] = Number(process.hrtime.bigint() - t);
  }
  return [quantiles(na), quantiles(nb)];
}

/** The Rust engine timed inside the binary itself (no napi, no JS), when it has been built. */
function rustInProcess(text: string): { p50: number; p99: number } | undefined {
  const root = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../" : "../", import.meta.url));
  const exe = join(
    root,
    "native",
    "bin",
    process.platform === "win32" ? "portcullis-policy.exe" : "portcullis-policy",
  );
  if (!existsSync(exe)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "portcullis-bench-"));
  try {
    const input = join(dir, "input.json");
    writeFileSync(input, text);
    const args = ["bench", "--bundle", defaultBundlePath(), "--input", input, "--n", String(SAMPLES)];
    const r = spawnSync(exe, args, { encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) return undefined;
    const out = JSON.parse(r.stdout) as { p50_ns: number; p99_ns: number };
    return { p50: out.p50_ns / 1000, p99: out.p99_ns / 1000 };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The default bundle without its input projection, in a scratch file: the whole input is evaluated. */
function bundleWithoutProjection(dir: string): string {
  const files = readTarGz(readFileSync(defaultBundlePath()));
  const manifest = JSON.parse(Buffer.from(files.get(".manifest") as Uint8Array).toString("utf8"));
  if (manifest.metadata?.portcullis) delete manifest.metadata.portcullis.input_projection;
  files.set(".manifest", Buffer.from(JSON.stringify(manifest)));
  const path = join(dir, "whole-input.tar.gz");
  writeFileSync(path, writeBundleArchive([...files]));
  return path;
}

/** Mean µs per call over batches of `BATCH` calls: the clock is read twice per batch, not per call. */
const BATCH = 100;
async function batchMean(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const means: number[] = [];
  for (let b = 0; b < SAMPLES / BATCH; b++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) await fn();
    means.push(Number(process.hrtime.bigint() - t) / BATCH);
  }
  return quantiles(means).p50; // µs
}

export async function run(): Promise<BenchResult[]> {
  const text = JSON.stringify(realisticInput);
  const bundle = await loadBundle(defaultBundlePath());
  const projector = bundle.projection ? new InputProjector(bundle.projection) : undefined;
  const projected = projector ? projector.text(realisticInput) : text;
  const engines: PolicyEvaluator[] = [await createTsEvaluator(bundle.wasm, bundle.data)];
  if (nativePolicyBinding().binding) engines.push(createRustEvaluator(bundle.wasm, bundle.data));

  // Whole and projected text alternate per engine, so both see the same machine state.
  const raw: Record<string, { p50: number; p99: number }> = {};
  for (const e of engines) {
    [raw[e.engine], raw[`${e.engine} projected`]] = await timePair(
      () => e.evaluate(text),
      () => e.evaluate(projected),
    );
  }
  const inProcess = rustInProcess(text);
  if (inProcess) raw.rust_in_process = inProcess;
  const inProcessProjected = rustInProcess(projected);
  if (inProcessProjected) raw["rust_in_process projected"] = inProcessProjected;

  const scratch = mkdtempSync(join(tmpdir(), "portcullis-bench-"));
  const service: Record<string, { p50: number; p99: number }> = {};
  const cachedEngine = engines.at(-1)?.engine ?? "ts";
  let hit: { p50: number; p99: number };
  let hitWhole: { p50: number; p99: number };
  let hitBatch: number;
  let hits: boolean;
  try {
    const whole = bundleWithoutProjection(scratch);
    for (const e of engines) {
      const svc = await createDecisionService({ engine: e.engine, cacheSize: 0 });
      const plain = await createDecisionService({ engine: e.engine, cacheSize: 0, bundlePath: whole });
      [service[`${e.engine} projected`], service[`${e.engine} whole input`]] = await timePair(
        () => svc.decide(realisticInput),
        () => plain.decide(realisticInput),
      );
      await svc.close();
      await plain.close();
    }
    const svc = await createDecisionService({ engine: cachedEngine, cacheSize: 1000 });
    const plain = await createDecisionService({ engine: cachedEngine, cacheSize: 1000, bundlePath: whole });
    await svc.decide(realisticInput);
    await plain.decide(realisticInput);
    // Fresh objects and strings per call, as a gateway builds them from each request: the same
    // object every time would let the cache's comparison stop at identical references. With the
    // projection every copy has its own arguments and request id, as consecutive tool calls do;
    // without it (the whole-input cache) only the request id may differ, or nothing would hit.
    const copies = Array.from({ length: 4096 }, (_, i) => {
      const c = JSON.parse(text) as PolicyInput & { arguments: Record<string, unknown> };
      c.arguments.query = `TODO ${i}`;
      c.context.request_id = `req-${i}`;
      return c as PolicyInput;
    });
    const sameArgs = Array.from({ length: 4096 }, (_, i) => {
      const c = JSON.parse(text) as PolicyInput;
      c.context.request_id = `req-${i}`;
      return c;
    });
    let next = 0;
    const hitDecide = () => svc.decide(copies[next++ & 4095] as PolicyInput);
    [hit, hitWhole] = await timePair(hitDecide, () => plain.decide(sameArgs[next & 4095] as PolicyInput));
    hitBatch = await batchMean(hitDecide);
    hits =
      (await svc.decide(copies[1] as PolicyInput)).cached &&
      (await plain.decide(sameArgs[1] as PolicyInput)).cached;
    await svc.close();
    await plain.close();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const clock = timeSync(() => undefined);

  const pick = (m: Record<string, { p50: number; p99: number }>, q: "p50" | "p99") =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, round(v[q])]));
  const ratios = (m: Record<string, { p50: number; p99: number }>, a: string, b: string) => {
    const out: Record<string, number> = {};
    for (const e of ["ts", "rust"]) {
      const x = m[`${e}${a}`];
      const y = m[`${e}${b}`];
      if (x && y) out[`${e}${a || " whole"}/${e}${b} p50`] = round(x.p50 / y.p50);
    }
    if (m[`rust${a}`] && m[`ts${a}`])
      out[`rust/ts${a} p50`] = round((m[`rust${a}`]?.p50 ?? 0) / (m[`ts${a}`]?.p50 ?? 1));
    return out;
  };
  const notes = `${SAMPLES} sequential samples after ${WARMUP} warm-up; input ${text.length} B JSON, projected ${projected.length} B`;
  // Targets of issue #3: TS decide() <= 10 µs p50, Rust <= 3 µs p50, cache hit <= 1 µs p50.
  const vsTarget: Record<string, number> = {};
  const tsDecide = service["ts projected"];
  const rustDecide = service["rust projected"];
  if (tsDecide) vsTarget["ts decide/10µs"] = round(tsDecide.p50 / TARGET_TS_US);
  if (rustDecide) vsTarget["rust decide/3µs"] = round(rustDecide.p50 / TARGET_RUST_US);
  if (inProcessProjected) vsTarget["rust in-process/3µs"] = round(inProcessProjected.p50 / TARGET_RUST_US);
  vsTarget["cache hit/1µs"] = round(hit.p50 / TARGET_HIT_US);
  vsTarget["cache hit batch mean/1µs"] = round(hitBatch / TARGET_HIT_US);
  return [
    {
      name: "policy: engine evaluate p50",
      unit: "µs",
      figures: pick(raw, "p50"),
      ratios: ratios(raw, "", " projected"),
      notes,
    },
    { name: "policy: engine evaluate p99", unit: "µs", figures: pick(raw, "p99"), notes },
    {
      name: "policy: uncached decide() p50",
      unit: "µs",
      figures: pick(service, "p50"),
      ratios: ratios(service, " whole input", " projected"),
      notes: `${notes}; 'whole input' = the same bundle without its input projection`,
    },
    { name: "policy: uncached decide() p99", unit: "µs", figures: pick(service, "p99"), notes },
    {
      name: "policy: cache hit decide()",
      unit: "µs",
      figures: {
        "per-call p50": round(hit.p50),
        "per-call p99": round(hit.p99),
        "whole-input cache per-call p50": round(hitWhole.p50),
        "batch-of-100 mean p50": round(hitBatch),
        "clock read pair p50": round(clock.p50),
      },
      notes:
        `${cachedEngine} engine; every call a fresh copy with its own arguments and request id (hit: ${hits}); ` +
        "whole-input cache = the bundle without its projection, copies differing in request id only, timed alternately; " +
        "per-call figures include two hrtime.bigint() reads, the batch mean does not",
    },
    {
      name: "policy: p50 / target",
      unit: "×",
      figures: vsTarget,
      notes: "measured p50 divided by the issue's target; <= 1 meets it",
    },
  ];
}
