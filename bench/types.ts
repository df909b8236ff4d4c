/**
 * The benchmark contract: every `bench/<name>.bench.ts` exports `run()` resolving to a list of
 * `BenchResult`s. Figures are what was measured; ratios compare figures measured side by side in
 * the same run (the only comparisons that mean anything on a shared, noisy machine).
 */

/** One row of the benchmark table. */
export interface BenchResult {
  /** What was measured, e.g. "contracts: validate fixtures". */
  name: string;
  /** Unit of every figure in `figures`, e.g. "docs/s", "µs", "MB/s". */
  unit: string;
  /** Measured values keyed by variant, e.g. { zod: 120000, rust: 900000 }. */
  figures: Record<string, number>;
  /** Dimensionless ratios between figures, e.g. { "rust/zod": 7.5 }. */
  ratios?: Record<string, number>;
  /** Free-form facts about the run (sample sizes, rounds, document counts). */
  notes?: string;
}

/** What each benchmark module exports. */
export type BenchModule = { run(): Promise<BenchResult[]> };
