/**
 * Loads the sanitizer fixtures and expands their templates. The Rust twin of `expandTemplate`
 * lives in native/core/tests/parity_sanitizer.rs; both produce the same text from a template.
 */
import { readFileSync } from "node:fs";

const CHARSETS: Record<string, string> = {
  "": "",
  A: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
  H: "0123456789abcdef",
  U: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  D: "0123456789",
  T: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
  B: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
  L: "abcdefghijklmnopqrstuvwxyz0123456789",
  AGE: "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
  SYM: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%&*+-.",
};

/** Expands `{A36}`-style placeholders with a fixed pseudo-random sequence (Park–Miller). */
export function expandTemplate(template: string): string {
  let state = 42;
  return template.replace(/\{([A-Z]*)([0-9]*)\}/g, (whole, cls: string, count: string) => {
    const charset = CHARSETS[cls];
    if (charset === undefined) throw new Error(`unknown template class ${cls}`);
    if (cls === "" && count !== "") return whole;
    const n = count === "" ? 0 : Number(count);
    let out = "";
    for (let i = 0; i < n; i++) {
      state = (state * 48271) % 2147483647;
      out += charset[state % charset.length];
    }
    return out;
  });
}

export interface SanitizerFixture {
  detector: string;
  positive: string[];
  negative: string[];
}

/** The fixtures with their templates expanded. */
export function loadSanitizerFixtures(): SanitizerFixture[] {
  const doc = JSON.parse(readFileSync(new URL("./sanitizer.fixtures.json", import.meta.url), "utf8")) as {
    fixtures: SanitizerFixture[];
  };
  return doc.fixtures.map((f) => ({
    detector: f.detector,
    positive: f.positive.map(expandTemplate),
    negative: f.negative.map(expandTemplate),
  }));
}
