import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateSchemas, repoRootFrom } from "./generate.js";

const root = repoRootFrom(import.meta.url);

describe("committed JSON Schemas", () => {
  const generated = generateSchemas();

  it("has one schema per contract document type plus the config schema", () => {
    expect([...generated.keys()].filter((k) => k.startsWith("contracts/schema/"))).toHaveLength(9);
    expect(generated.has("docs/portcullis.schema.json")).toBe(true);
  });

  for (const [rel, text] of generated) {
    it(`${rel} matches the zod source`, () => {
      let committed: string | undefined;
      try {
        committed = readFileSync(join(root, rel), "utf8");
      } catch {
        committed = undefined;
      }
      if (committed !== text) {
        expect.fail(
          `${rel} is ${committed === undefined ? "missing" : "out of date"}: run \`npm run build && npm run schemas\``,
        );
      }
    });
  }
});
