/**
 * Policy parity: the TypeScript and Rust engines evaluate every corpus entry under each data
 * document; result sets must be byte-identical and canonically equal, and every decision must be
 * a valid PolicyDecision carrying only registered reason codes. Any divergence prints the input.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isRegisteredReasonCode, PolicyDecision } from "../../contracts/index.js";
import { canonicalize } from "../../native/index.js";
import { defaultBundlePath, loadBundle } from "../../policies/bundle.js";
import { createRustEvaluator, nativePolicyBinding } from "../../policies/native-engine.js";
import { createTsEvaluator } from "../../policies/wasm-engine.js";
import { buildCorpus, GENERATED } from "./corpus.js";

const dataFiles = ["(bundle data.json)", "allow-all.data.json", "rules.data.json"];
const native = nativePolicyBinding();
const corpus = buildCorpus();

type Outcome = { text: string } | { error: string };

function outcome(run: () => string): Outcome {
  try {
    return { text: run() };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function divergence(entry: { name: string; text: string }, file: string, a: string, b: string): string {
  return `divergence on ${entry.name} with ${file}\ninput: ${excerpt(entry.text)}\nts:   ${a}\nrust: ${b}`;
}

function excerpt(text: string): string {
  return text.length > 2000 ? `${text.slice(0, 2000)}… (${text.length} chars)` : text;
}

describe("policy parity corpus", () => {
  it("holds at least 1,000 inputs", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(1000);
    expect(GENERATED).toBeGreaterThanOrEqual(1000);
    expect(new Set(corpus.map((c) => c.text)).size).toBeGreaterThan(1000);
  });

  it("the Rust engine is available (skipped only outside CI)", () => {
    if (!native.binding && !process.env.CI) {
      console.warn(`parity: Rust engine unavailable, run npm run setup (${native.reason})`);
      return;
    }
    expect(native.binding, native.reason).toBeDefined();
  });

  it.runIf(native.binding).each(dataFiles)("TS and Rust agree on every input with %s", async (file) => {
    const data = file.startsWith("(") ? undefined : readFileSync(new URL(file, import.meta.url));
    const bundle = await loadBundle(defaultBundlePath(), data);
    const ts = await createTsEvaluator(bundle.wasm, bundle.data);
    const rust = createRustEvaluator(bundle.wasm, bundle.data);
    const decisions = new Map<string, number>();
    let errors = 0;
    for (const entry of corpus) {
      const a = outcome(() => ts.evaluate(entry.text));
      const b = outcome(() => rust.evaluate(entry.text));
      if ("error" in a || "error" in b) {
        // Both hosts must refuse the same inputs (the module aborts): the service fails closed.
        const agree = "error" in a && "error" in b && b.error.includes(a.error);
        if (!agree) expect.fail(divergence(entry, file, JSON.stringify(a), JSON.stringify(b)));
        errors++;
        continue;
      }
      if (a.text !== b.text || canonicalize(JSON.parse(a.text)) !== canonicalize(JSON.parse(b.text))) {
        expect.fail(divergence(entry, file, a.text, b.text));
      }
      const set = JSON.parse(a.text) as { result: unknown }[];
      if (set.length !== 1)
        expect.fail(
          `${entry.name}: the policy gave no single decision (${a.text})\ninput: ${excerpt(entry.text)}`,
        );
      const parsed = PolicyDecision.safeParse(set[0]?.result);
      if (!parsed.success) expect.fail(`${entry.name}: invalid decision ${a.text}: ${parsed.error.message}`);
      for (const r of parsed.data.reasons) {
        if (!isRegisteredReasonCode(r.code)) expect.fail(`${entry.name}: unregistered code ${r.code}`);
      }
      decisions.set(parsed.data.decision, (decisions.get(parsed.data.decision) ?? 0) + 1);
    }
    // The corpus exercises more than one outcome under every data document.
    expect(decisions.size, JSON.stringify([...decisions])).toBeGreaterThanOrEqual(2);
    // Refusals are rare, known edge cases (e.g. a lone surrogate escape), not the norm.
    expect(errors).toBeLessThan(10);
  });
});
