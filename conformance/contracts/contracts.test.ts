/**
 * TS/Rust contract conformance: every fixture document goes through zod and through the Rust
 * serde mirror (the contract-check binary); the two must agree, and agree with the folder the
 * document sits in (valid/ or invalid/).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  CONTRACT_DOCUMENTS,
  CONTRACT_OF,
  isContractDocumentType,
  validateContractJson,
} from "../../contracts/index.js";
import { type CheckResponse, type Fixture, loadFixtures, runContractChecker } from "./checker.js";

const fixtures = loadFixtures();

describe("contract fixtures", () => {
  it("cover every document type with at least 120 documents, 15 valid and 15 invalid per contract", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(120);
    const types = new Set(fixtures.map((f) => f.type));
    expect([...types].sort()).toEqual(Object.keys(CONTRACT_DOCUMENTS).sort());
    const perContract = new Map<string, { valid: number; invalid: number }>();
    for (const f of fixtures) {
      if (!isContractDocumentType(f.type)) throw new Error(`${f.file}: unknown document type folder`);
      const counts = perContract.get(CONTRACT_OF[f.type]) ?? { valid: 0, invalid: 0 };
      counts[f.expected]++;
      perContract.set(CONTRACT_OF[f.type], counts);
    }
    expect(perContract.size).toBe(4);
    for (const [contract, counts] of perContract) {
      expect(counts.valid, `${contract} valid documents`).toBeGreaterThanOrEqual(15);
      expect(counts.invalid, `${contract} invalid documents`).toBeGreaterThanOrEqual(15);
    }
  });
});

describe("zod and Rust serde agree on every fixture", () => {
  let rust: CheckResponse[] = [];
  beforeAll(() => {
    rust = runContractChecker(fixtures.map((f) => ({ type: f.type, text: f.text })));
  });

  fixtures.forEach((f: Fixture, i) => {
    it(`${f.type}/${f.expected}/${f.name}`, () => {
      if (!isContractDocumentType(f.type)) throw new Error(`${f.file}: unknown document type folder`);
      const zod = validateContractJson(f.type, f.text);
      const serde = rust[i];
      if (!serde) throw new Error("no answer from contract-check");
      const zodError = zod.valid ? "" : zod.error;
      expect(
        { zod: zod.valid, rust: serde.valid },
        `zod and Rust disagree (zod: ${zodError || "valid"}; rust: ${serde.error ?? "valid"})`,
      ).toEqual({ zod: serde.valid, rust: zod.valid });
      expect(
        zod.valid ? "valid" : "invalid",
        `both say ${zod.valid ? "valid" : `invalid (${zodError})`}, the folder says ${f.expected}`,
      ).toBe(f.expected);
    });
  });
});
