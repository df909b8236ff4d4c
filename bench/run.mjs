/**
 * `npm run bench [-- filter…]`: runs every compiled benchmark `dist/bench/*.bench.js` (sources in
 * `bench/*.bench.ts`, see bench/README.md) one after another, prints one table of figures and
 * ratios, and writes `bench/results/<timestamp>.json` plus `bench/results/latest.json`.
 * A benchmark that throws is reported in the table and JSON and makes the exit code non-zero.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// Overridable so the runner's own test can point it at a scratch folder.
const compiled = process.env.PORTCULLIS_BENCH_DIR || join(root, "dist", "bench");
const resultsDir = process.env.PORTCULLIS_BENCH_RESULTS || join(root, "bench", "results");
const filters = process.argv.slice(2);

function benchFiles() {
  if (!existsSync(compiled)) {
    throw new Error(`bench: ${compiled} is missing: run \`npm run build\` first (npm run bench does)`);
  }
  return readdirSync(compiled)
    .filter((f) => f.endsWith(".bench.js"))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
}

function isResult(r) {
  return (
    r !== null &&
    typeof r === "object" &&
    typeof r.name === "string" &&
    typeof r.unit === "string" &&
    r.figures !== null &&
    typeof r.figures === "object" &&
    Object.values(r.figures).every((v) => typeof v === "number") &&
    (r.ratios === undefined || Object.values(r.ratios).every((v) => typeof v === "number"))
  );
}

function format(n) {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString("en-US");
  if (abs >= 10) return n.toFixed(1);
  return n.toPrecision(3);
}

function printTable(rows) {
  const header = ["benchmark", "unit", "figures", "ratios"];
  const body = rows.map((r) =>
    r.error
      ? [r.name, "-", `FAILED: ${r.error}`, ""]
      : [
          r.name,
          r.unit,
          Object.entries(r.figures)
            .map(([k, v]) => `${k} ${format(v)}`)
            .join("  "),
          Object.entries(r.ratios ?? {})
            .map(([k, v]) => `${k} ${format(v)}`)
            .join("  "),
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join(" | ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const row of body) console.log(line(row));
}

const started = new Date();
const files = benchFiles();
if (files.length === 0) {
  console.error(
    `bench: no benchmark matched ${filters.length ? filters.join(", ") : "dist/bench/*.bench.js"}`,
  );
  process.exit(1);
}
const runs = [];
let failed = false;
for (const file of files) {
  const name = basename(file, ".bench.js");
  const t = Date.now();
  process.stderr.write(`bench: running ${name}…\n`);
  try {
    const mod = await import(pathToFileURL(join(compiled, file)).href);
    if (typeof mod.run !== "function") throw new Error("does not export run()");
    const results = await mod.run();
    if (!Array.isArray(results) || !results.every(isResult)) {
      throw new Error("run() must resolve to BenchResult[] (name, unit, figures, ratios?)");
    }
    runs.push({ bench: name, seconds: (Date.now() - t) / 1000, results });
  } catch (err) {
    failed = true;
    runs.push({ bench: name, seconds: (Date.now() - t) / 1000, error: String(err?.stack ?? err) });
  }
}

printTable(runs.flatMap((r) => (r.error ? [{ name: r.bench, error: r.error.split("\n")[0] }] : r.results)));

const report = {
  started: started.toISOString(),
  finished: new Date().toISOString(),
  machine: {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus().length,
    memory_bytes: totalmem(),
  },
  filters,
  runs,
};
mkdirSync(resultsDir, { recursive: true });
const stamp = started.toISOString().replace(/[:.]/g, "-");
const text = `${JSON.stringify(report, null, 2)}\n`;
writeFileSync(join(resultsDir, `${stamp}.json`), text);
writeFileSync(join(resultsDir, "latest.json"), text);
console.log(`\nbench: wrote ${join(resultsDir, `${stamp}.json`)} and latest.json`);
if (failed) process.exit(1);
