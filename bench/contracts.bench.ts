/**
 * Contract validation throughput: the conformance fixture documents (JSON text) validated by zod
 * (JSON.parse + schema) and by the Rust serde mirror (serde_json parse + types), in documents per
 * second. The Rust figure is the validation time the contract-check binary measures itself, so
 * process start-up and pipe I/O are not counted.
 */
import { performance } from "node:perf_hooks";
import { type Fixture, loadFixtures, runContractChecker } from "../conformance/contracts/checker.js";
import { isContractDocumentType, validateContractJson } from "../contracts/index.js";
import type { BenchResult } from "./types.js";

const TARGET_MS = 1_000;

function zodDocsPerSecond(docs: Fixture[]): number {
  const validate = () => {
    for (const f of docs) {
      if (isContractDocumentType(f.type)) validateContractJson(f.type, f.text);
    }
  };
  for (let i = 0; i < 20; i++) validate(); // warm-up: JIT and zod's lazy schema set-up
  let rounds = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < TARGET_MS) {
    validate();
    rounds++;
    elapsed = performance.now() - started;
  }
  return (rounds * docs.length) / (elapsed / 1_000);
}

function rustDocsPerSecond(docs: Fixture[], zodRate: number): { rate: number; repeat: number } {
  // Each document is validated `repeat` times inside the checker; aim at roughly TARGET_MS in all.
  const repeat = Math.max(20, Math.round((zodRate * 4 * (TARGET_MS / 1_000)) / docs.length));
  runContractChecker(docs.slice(0, 5).map((f) => ({ type: f.type, text: f.text, repeat: 100 }))); // warm-up
  const answers = runContractChecker(docs.map((f) => ({ type: f.type, text: f.text, repeat })));
  const ns = answers.reduce((sum, a) => sum + a.ns, 0);
  return { rate: (docs.length * repeat) / (ns / 1e9), repeat };
}

function measure(name: string, docs: Fixture[]): BenchResult {
  const zod = zodDocsPerSecond(docs);
  const rust = rustDocsPerSecond(docs, zod);
  return {
    name,
    unit: "docs/s",
    figures: { zod: Math.round(zod), rust: Math.round(rust.rate) },
    ratios: { "rust/zod": rust.rate / zod },
    notes: `${docs.length} documents; rust repeat ${rust.repeat}`,
  };
}

export async function run(): Promise<BenchResult[]> {
  const fixtures = loadFixtures();
  return [
    measure("contracts: validate all fixtures", fixtures),
    measure(
      "contracts: validate valid fixtures",
      fixtures.filter((f) => f.expected === "valid"),
    ),
  ];
}
