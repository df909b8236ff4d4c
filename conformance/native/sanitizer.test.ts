import { describe, expect, it } from "vitest";
import table from "../../native/core/src/sanitizer/detectors.json" with { type: "json" };
import { addonCore, fallbackCore } from "./cores.js";
import { expandTemplate, loadSanitizerFixtures } from "./sanitizer-fixtures.js";

const fixtures = loadSanitizerFixtures();
const ts = fallbackCore;
const rs = addonCore();

describe("sanitizer fixtures", () => {
  it("cover every detector, with at least 40 secret formats", () => {
    const ids = table.detectors.map((d) => d.id);
    expect(new Set(fixtures.map((f) => f.detector))).toEqual(new Set(ids));
    expect(table.detectors.filter((d) => d.class === "secret").length).toBeGreaterThanOrEqual(40);
  });

  describe.each(fixtures.map((f) => [f.detector, f] as const))("%s", (detector, f) => {
    it.each(f.positive.map((t, i) => [i, t] as const))(
      "positive %i: both cores find it, identically",
      (_i, text) => {
        const a = ts.scanText(text);
        expect(rs.scanText(text)).toEqual(a);
        expect(a.some((x) => x.detector === detector)).toBe(true);
      },
    );
    it.each(f.negative.map((t, i) => [i, t] as const))("negative %i: neither core flags it", (_i, text) => {
      const a = ts.scanText(text);
      expect(rs.scanText(text)).toEqual(a);
      expect(a.some((x) => x.detector === detector)).toBe(false);
    });
  });
});

describe("sanitizer parity", () => {
  it("reports UTF-8 byte spans around non-ASCII text", () => {
    const text = "é😀 mail me: bob@example.org — ключ";
    for (const core of [ts, rs]) {
      const [f] = core.scanText(text);
      expect(f).toMatchObject({ class: "email", detector: "email_address" });
      const bytes = Buffer.from(text, "utf8");
      expect(bytes.subarray(f?.start, f?.end).toString("utf8")).toBe("bob@example.org");
    }
  });

  it("agrees on a large mixed document, sync and async", async () => {
    const parts: string[] = [];
    for (let i = 0; i < 400; i++) {
      const f = fixtures[i % fixtures.length];
      parts.push(
        `línea ${i} 😀 const x = ${i};`,
        f?.positive[0] ?? "",
        f?.negative[0] ?? "",
        "plain prose, ok.\n",
      );
    }
    const text = parts.join(" ");
    const a = ts.scanText(text);
    expect(a.length).toBeGreaterThan(300);
    expect(rs.scanText(text)).toEqual(a);
    expect(await rs.scanTextAsync(text)).toEqual(a);
    expect(await ts.scanTextAsync(text)).toEqual(a);
  });

  it("walks JSON values with paths, identically", async () => {
    const value = {
      user: { email: "carol@example.com", "home address": ["x", "ip 10.1.2.3"] },
      list: [null, 1, true, { token: expandTemplate("gh{}p_{A36}") }],
      ключ: "call +1 415-555-0132",
    };
    const a = ts.scanValue(value);
    expect(a.map((f) => f.path)).toEqual([
      "$.user.email",
      '$.user["home address"][1]',
      "$.list[3].token",
      '$["ключ"]',
    ]);
    expect(rs.scanValue(value)).toEqual(a);
    expect(await rs.scanValueAsync(value)).toEqual(a);
    const lone = { s: "bad \ud800 bob@example.org" };
    expect(rs.scanValue(lone)).toEqual(ts.scanValue(lone));
  });
});
