/**
 * The default policy keeps its decisions: for every corpus entry and example, under every data
 * document, the TypeScript engine's result text equals the one recorded in golden.json (written
 * from the policy before its rewrite for speed; see golden.ts for how to regenerate it on purpose).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultBundlePath } from "../../policies/bundle.js";
import { GOLDEN_DATA_FILES, type GoldenRecord, goldenCases, goldenPath, goldenRecord } from "./golden.js";

const golden = JSON.parse(readFileSync(goldenPath(), "utf8")) as GoldenRecord;

describe("golden decisions of the default policy", () => {
  it("cover every case under every data document", () => {
    const names = goldenCases().map((c) => c.name);
    expect(Object.keys(golden.cases)).toEqual([...GOLDEN_DATA_FILES]);
    for (const file of GOLDEN_DATA_FILES) expect(Object.keys(golden.cases[file] ?? {})).toEqual(names);
    // More than a handful of distinct outcomes, or the corpus would prove little.
    expect(golden.decisions.length).toBeGreaterThan(100);
  });

  it("the committed bundle gives exactly the recorded result text for every case", async () => {
    const now = await goldenRecord(defaultBundlePath());
    const inputs = new Map(goldenCases().map((c) => [c.name, c.text]));
    const diffs: string[] = [];
    for (const file of GOLDEN_DATA_FILES) {
      const want = golden.cases[file] ?? {};
      const got = now.cases[file] ?? {};
      for (const [name, i] of Object.entries(want)) {
        const a = golden.decisions[i];
        const b = now.decisions[got[name] ?? -1];
        if (a === b) continue;
        const input = inputs.get(name) ?? "";
        diffs.push(
          `${name} with ${file}\ninput: ${input.length > 1000 ? `${input.slice(0, 1000)}…` : input}\ngolden: ${a}\nnow:    ${b}`,
        );
      }
    }
    expect(diffs.length, diffs.slice(0, 5).join("\n\n")).toBe(0);
  });
});
