/**
 * Native core vs TypeScript fallback, measured side by side in one run: canonicalize + sha256 of
 * a 1 MiB JSON document, the sanitizer over 1 MiB of mixed source code and prose (targets:
 * native ≥ 300 MB/s and ≥ 10× the fallback), redaction of a JSON document, top-k over
 * 100,000 × 384 vectors, and workspace search, list and read over a generated tree of 10,000
 * files in os.tmpdir() (removed afterwards). Inputs are generated deterministically.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { addonCore, fallbackCore } from "../conformance/native/cores.js";
import { expandTemplate } from "../conformance/native/sanitizer-fixtures.js";
import type { NativeCore } from "../native/core-api.js";
import type { ListRequest, ReadRequest } from "../native/files-types.js";
import type { FileSearchRequest } from "../native/search-types.js";
import type { BenchResult } from "./types.js";

const MIB = 1024 * 1024;

/** Deterministic pseudo-random numbers in [0, 1) (Park–Miller). */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
}

/**
 * Runs `f` repeatedly for about `ms` after `warm` warm-up calls; returns the median seconds per
 * call (the machine is shared: the median shrugs off calls that lost the CPU to other work).
 */
async function timePerCall(f: () => unknown, ms = 800, warm = 2): Promise<{ s: number; rounds: number }> {
  for (let i = 0; i < warm; i++) await f();
  const times: number[] = [];
  const started = performance.now();
  while (performance.now() - started < ms || times.length < 3) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { s: (times[times.length >> 1] as number) / 1000, rounds: times.length };
}

function jsonDocument(): unknown {
  const next = rng(11);
  const items: unknown[] = [];
  let size = 0;
  for (let i = 0; size < MIB; i++) {
    const item = {
      id: `item-${i}`,
      n: Math.floor(next() * 1e9),
      x: next() * 1000 - 500,
      ok: next() < 0.5,
      tags: ["alpha", "beta", "γάμμα", `t${i % 17}`],
      text: `Row ${i}: the quick brown fox — ünïcödé ${"lorem ipsum ".repeat(3)}`,
      nested: { z: i, a: [1.5, null, "\u2028"], "€": { deep: true } },
    };
    size += JSON.stringify(item).length;
    items.push(item);
  }
  return { v: 1, items };
}

function mixedText(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const sources = ["../native/fallback/sanitizer.js", "../native/fallback/vector.js", "../native/addon.js"]
    .map((p) => readFileSync(join(here, p), "utf8"))
    .join("\n");
  const prose =
    "Portcullis sits between callers and tools. Every call is decided by one policy, then executed, " +
    "then audited. Write to ops@example.org or call +1 415-555-0132 if the gateway misbehaves; " +
    "server 10.20.30.40 logs everything.\n";
  const secrets = [
    expandTemplate("const token = 'gh{}p_{A36}';\n"),
    expandTemplate("AWS key AK{}IA{U16} in a comment\n"),
    expandTemplate('password = "{SYM20}"\n'),
  ];
  let out = "";
  for (let i = 0; out.length < MIB; i++) {
    out += sources.slice((i * 997) % sources.length, ((i * 997) % sources.length) + 4000);
    out += prose.repeat(3);
    out += secrets[i % secrets.length];
  }
  return out.slice(0, MIB);
}

async function throughput(
  name: string,
  bytes: number,
  f: (core: NativeCore) => unknown,
  ts: NativeCore,
  rs: NativeCore,
): Promise<BenchResult> {
  const a = await timePerCall(() => f(ts));
  const b = await timePerCall(() => f(rs));
  const mbps = (t: number) => bytes / MIB / t;
  return {
    name,
    unit: "MB/s",
    figures: { ts: mbps(a.s), native: mbps(b.s) },
    ratios: { "native/ts": a.s / b.s },
    notes: `${(bytes / MIB).toFixed(2)} MiB input; rounds ts ${a.rounds}, native ${b.rounds}`,
  };
}

async function vectorTopK(ts: NativeCore, rs: NativeCore): Promise<BenchResult> {
  const dims = 384;
  const count = 100_000;
  const next = rng(5);
  const a = ts.createVectorIndex(dims, "cosine", "bench");
  const b = rs.createVectorIndex(dims, "cosine", "bench");
  const row = new Float32Array(dims);
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < dims; d++) row[d] = next() - 0.5;
    a.upsert(`v${i}`, row, "bench");
    b.upsert(`v${i}`, row, "bench");
  }
  const queries = Array.from({ length: 8 }, () => Float32Array.from({ length: dims }, () => next() - 0.5));
  const probe = queries[0] as Float32Array;
  if (JSON.stringify(a.query(probe, "bench", 10)) !== JSON.stringify(b.query(probe, "bench", 10))) {
    throw new Error("top-k results differ");
  }
  let q = 0;
  const ta = await timePerCall(
    () => a.query(queries[q++ % queries.length] as Float32Array, "bench", 10),
    1500,
    1,
  );
  const tb = await timePerCall(
    () => b.query(queries[q++ % queries.length] as Float32Array, "bench", 10),
    1500,
    1,
  );
  const tc = await timePerCall(
    () => b.queryAsync(queries[q++ % queries.length] as Float32Array, "bench", 10),
    1500,
    1,
  );
  return {
    name: "native: top-10 cosine over 100,000 × 384",
    unit: "ms/query",
    figures: { ts: ta.s * 1000, native: tb.s * 1000, "native async": tc.s * 1000 },
    ratios: { "ts/native": ta.s / tb.s },
    notes: `rounds ts ${ta.rounds}, native ${tb.rounds}, async ${tc.rounds}`,
  };
}

function generateTree(root: string): void {
  const next = rng(3);
  const words = [
    "const",
    "return",
    "function",
    "value",
    "import",
    "export",
    "TODO",
    "await",
    "policy",
    "gate",
  ];
  writeFileSync(join(root, ".gitignore"), "*.log\nbuild/\n");
  for (let i = 0; i < 10_000; i++) {
    const dir = join(root, `pkg${i % 40}`, `mod${i % 7}`);
    if (i < 280) mkdirSync(dir, { recursive: true });
    const lines: string[] = [];
    for (let l = 0; l < 40; l++) {
      const n = 4 + Math.floor(next() * 8);
      lines.push(Array.from({ length: n }, () => words[Math.floor(next() * words.length)]).join(" "));
    }
    writeFileSync(join(dir, `file${i}.${i % 10 === 0 ? "log" : "ts"}`), `${lines.join("\n")}\n`);
  }
}

/** Search, list and read over the generated tree, native vs ts, side by side. */
async function workspace(ts: NativeCore, rs: NativeCore, text: string): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), "portcullis-bench-ws-"));
  try {
    generateTree(root);
    const req: FileSearchRequest = {
      root,
      start: root,
      prefixRoot: false,
      pattern: "policy\\s+gate\\s+TODO",
      caseInsensitive: false,
      maxResults: 100_000,
      maxFiles: 20_000,
      maxFileBytes: MIB,
    };
    const first = await ts.searchFiles(req);
    const again = await rs.searchFiles(req);
    if (JSON.stringify(first) !== JSON.stringify(again)) throw new Error("workspace search results differ");
    const a = await timePerCall(() => ts.searchFiles(req), 2000, 1);
    const b = await timePerCall(() => rs.searchFiles(req), 2000, 1);
    const listing: ListRequest = { root, start: root, prefixRoot: false, depth: 3, limit: 100_000 };
    const listed = await ts.listFiles(listing);
    if (JSON.stringify(listed) !== JSON.stringify(await rs.listFiles(listing)))
      throw new Error("listings differ");
    const la = await timePerCall(() => ts.listFiles(listing), 1500, 1);
    const lb = await timePerCall(() => rs.listFiles(listing), 1500, 1);
    writeFileSync(join(root, "big.txt"), text);
    const reading: ReadRequest = { path: join(root, "big.txt"), offset: 0, want: MIB };
    const small: ReadRequest = { path: join(root, "pkg1", "mod1", "file1.ts"), offset: 0, want: MIB };
    for (const r of [reading, small]) {
      if (JSON.stringify(await ts.readFile(r)) !== JSON.stringify(await rs.readFile(r)))
        throw new Error("reads differ");
    }
    const ra = await timePerCall(() => ts.readFile(reading));
    const rb = await timePerCall(() => rs.readFile(reading));
    const sa = await timePerCall(() => ts.readFile(small));
    const sb = await timePerCall(() => rs.readFile(small));
    return [
      {
        name: "native: workspace search, 10,000 files",
        unit: "ms/search",
        figures: { ts: a.s * 1000, native: b.s * 1000 },
        ratios: { "ts/native": a.s / b.s },
        notes: `${first.filesScanned} files scanned (1,000 .gitignored), ${first.matches.length} matches; rounds ts ${a.rounds}, native ${b.rounds}`,
      },
      {
        name: "native: workspace list, 10,000 files in 320 directories",
        unit: "ms/list",
        figures: { ts: la.s * 1000, native: lb.s * 1000 },
        ratios: { "ts/native": la.s / lb.s },
        notes: `${listed.entries.length} entries; rounds ts ${la.rounds}, native ${lb.rounds}`,
      },
      {
        name: "native: workspace read, 1 MiB text file / 1.5 KiB file",
        unit: "ms/read",
        figures: {
          ts: ra.s * 1000,
          native: rb.s * 1000,
          "ts small": sa.s * 1000,
          "native small": sb.s * 1000,
        },
        ratios: { "ts/native": ra.s / rb.s, "ts/native small": sa.s / sb.s },
        notes: `rounds ts ${ra.rounds}/${sa.rounds}, native ${rb.rounds}/${sb.rounds}`,
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult[]> {
  const ts = fallbackCore;
  const rs = addonCore();
  const doc = jsonDocument();
  const docBytes = Buffer.byteLength(ts.canonicalize(doc));
  if (ts.digest(doc) !== rs.digest(doc)) throw new Error("digests differ");
  const text = mixedText();
  const textBytes = Buffer.byteLength(text);
  if (JSON.stringify(ts.scanText(text)) !== JSON.stringify(rs.scanText(text)))
    throw new Error("scans differ");
  const findings = rs.scanText(text).length;
  const masked = (c: NativeCore) => JSON.stringify(c.redactValue(doc, { action: "mask" }));
  if (masked(ts) !== masked(rs)) throw new Error("redactions differ");
  const results = [
    await throughput(
      "native: canonicalize + sha256 of a 1 MiB document",
      docBytes,
      (c) => c.digest(doc),
      ts,
      rs,
    ),
    await throughput(
      "native: sanitizer over 1 MiB source + prose",
      textBytes,
      (c) => c.scanText(text),
      ts,
      rs,
    ),
    await throughput(
      "native: redact (mask) a 1 MiB document",
      docBytes,
      (c) => c.redactValue(doc, { action: "mask" }),
      ts,
      rs,
    ),
  ];
  const scan = results[1] as BenchResult;
  scan.notes = `${scan.notes}; ${findings} findings`;
  results.push(await vectorTopK(ts, rs));
  results.push(...(await workspace(ts, rs, text)));
  return results;
}
