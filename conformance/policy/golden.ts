/**
 * The golden decisions of the default policy: the exact result text the TypeScript engine gives
 * for every parity-corpus entry and every example input, under each data document the parity test
 * uses. golden.json was written from the policy as it stood before its rewrite for speed; the test
 * beside this file holds every later policy to exactly those decisions. The file is regenerated only
 * deliberately, with `npm run build && node dist/conformance/policy/write-golden.js`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadBundle } from "../../policies/bundle.js";
import { createTsEvaluator } from "../../policies/wasm-engine.js";
import { buildCorpus } from "./corpus.js";

/**
 * The data documents the corpus runs under: the bundle's own, the parity test's documents, and
 * edge.data.json (settings left out or off-type: no audit level or ask TTL, filters false or
 * null, a rule without effect, timeout 0), whose allow decisions are undefined (`[]`).
 */
export const GOLDEN_DATA_FILES = [
  "(bundle data.json)",
  "allow-all.data.json",
  "rules.data.json",
  "edge.data.json",
] as const;

/** Distinct result texts, and per data document each case's index into them. */
export interface GoldenRecord {
  decisions: string[];
  cases: Record<string, Record<string, number>>;
}

/** This folder in the sources, also when running from the compiled copy under dist/. */
export function sourceDir(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  return here.replace(/[\\/]dist([\\/]conformance[\\/]policy[\\/])$/, "$1");
}

/** Every case by a unique name: the corpus entries, then `example <file>` for each example. */
export function goldenCases(): { name: string; text: string }[] {
  const dir = `${sourceDir()}examples/`;
  const examples = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ name: `example ${f}`, text: readFileSync(`${dir}${f}`, "utf8") }));
  const cases = [...buildCorpus(), ...examples];
  const names = new Set(cases.map((c) => c.name));
  if (names.size !== cases.length) throw new Error("golden cases need unique names");
  return cases;
}

/** The result text of each case, or `error: <message>` when the module refuses the input. */
export async function goldenRecord(bundlePath: string): Promise<GoldenRecord> {
  const decisions: string[] = [];
  const index = new Map<string, number>();
  const cases: GoldenRecord["cases"] = {};
  const all = goldenCases();
  for (const file of GOLDEN_DATA_FILES) {
    const data = file.startsWith("(") ? undefined : readFileSync(`${sourceDir()}${file}`);
    const bundle = await loadBundle(bundlePath, data);
    const ts = await createTsEvaluator(bundle.wasm, bundle.data);
    const byName: Record<string, number> = {};
    for (const c of all) {
      let text: string;
      try {
        text = ts.evaluate(c.text);
      } catch (e) {
        text = `error: ${e instanceof Error ? e.message : String(e)}`;
      }
      let i = index.get(text);
      if (i === undefined) {
        i = decisions.push(text) - 1;
        index.set(text, i);
      }
      byName[c.name] = i;
    }
    cases[file] = byName;
  }
  return { decisions, cases };
}

/** Where the committed golden decisions live. */
export function goldenPath(): string {
  return `${sourceDir()}golden.json`;
}
