import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { restoreText, restoreValue } from "../../native/fallback/redact.js";
import type { RedactOptions } from "../../native/sanitizer-types.js";
import { addonCore, fallbackCore } from "./cores.js";
import { expandTemplate } from "./sanitizer-fixtures.js";

interface Vector {
  name: string;
  input: unknown;
  options: RedactOptions;
  value: unknown;
  mapping?: Record<string, string>;
  findings: number;
}

const { vectors } = JSON.parse(readFileSync(new URL("./redact.vectors.json", import.meta.url), "utf8")) as {
  vectors: Vector[];
};
const ts = fallbackCore;
const rs = addonCore();

describe("redaction vectors", () => {
  it.each(vectors.map((v) => [v.name, v] as const))(
    "%s: both cores give the expected result",
    async (_n, v) => {
      for (const core of [ts, rs]) {
        const r = core.redactValue(v.input, v.options);
        expect(r.value).toEqual(v.value);
        expect(r.mapping).toEqual(v.mapping);
        expect(r.findings).toHaveLength(v.findings);
        expect(await core.redactValueAsync(v.input, v.options)).toEqual(r);
      }
      expect(rs.redactValue(v.input, v.options)).toEqual(ts.redactValue(v.input, v.options));
      if (v.mapping) expect(restoreValue(v.value, v.mapping)).toEqual(v.input);
    },
  );
});

describe("redaction parity", () => {
  it("agrees on secrets, lone surrogates and JSON-only semantics", () => {
    const token = expandTemplate("gh{}p_{A36}");
    const value = {
      cfg: `token=${token} and mail carol@example.com`,
      deep: [[{ x: `Bearer ${token}` }], undefined, () => 1],
      skip: undefined,
      lone: "bad \ud800 bob@example.org",
      __proto__: null,
      when: new Date(0),
    };
    for (const action of ["mask", "hash", "drop", "reversible"] as const) {
      const a = ts.redactValue(value, { action });
      expect(rs.redactValue(value, { action })).toEqual(a);
      expect(JSON.stringify(a.value)).not.toContain(token);
    }
    const r = ts.redactValue({ s: `x ${token} y` }, { action: "reversible", classes: ["secret"] });
    expect(r.value).toEqual({ s: "x [SECRET_1] y" });
    expect(restoreValue(r.value, r.mapping ?? {})).toEqual({ s: `x ${token} y` });
  });

  it("keeps an own __proto__ member as an own member", () => {
    const value = JSON.parse('{"__proto__": {"a": "bob@example.org"}}') as unknown;
    for (const core of [ts, rs]) {
      const r = core.redactValue(value, { action: "mask" }).value as Record<string, unknown>;
      expect(Object.hasOwn(r, "__proto__")).toBe(true);
      expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
      expect(JSON.stringify(r)).toBe('{"__proto__":{"a":"[REDACTED:email]"}}');
    }
  });

  it("refuses unknown actions in both cores with the same error", () => {
    const bad = { action: "shred" } as unknown as RedactOptions;
    expect(() => ts.redactValue("x", bad)).toThrow(/action must be one of/);
    expect(() => rs.redactValue("x", bad)).toThrow(/action must be one of/);
    expect(() => rs.redactValue("x", { action: "mask", classes: "email" as unknown as string[] })).toThrow(
      /classes must be a list/,
    );
  });

  it("restores only known placeholders", () => {
    const mapping = { "[EMAIL_1]": "bob@example.org" };
    expect(restoreText("[a] [EMAIL_1]] [EMAIL_2] [EMAIL_1", mapping)).toBe(
      "[a] bob@example.org] [EMAIL_2] [EMAIL_1",
    );
    expect(restoreText("[toString]", mapping)).toBe("[toString]");
  });
});
