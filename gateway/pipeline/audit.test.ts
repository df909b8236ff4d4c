import { describe, expect, it } from "vitest";
import { digest } from "../../native/index.js";
import { resultDigest } from "./audit.js";

describe("resultDigest", () => {
  it("equals digest() for text results and for every shape it leaves to digest()", () => {
    const cases: unknown[] = [
      { content: [] },
      { content: [{ type: "text", text: "m1" }] },
      {
        content: [
          { text: "a", type: "text" },
          { type: "text", text: 'q"\\\n\u2028é\ud83d\ude00' },
        ],
      },
      { content: [{ type: "text", text: "x" }], isError: true },
      { isError: false, content: [{ type: "text", text: "x" }] },
      { content: [{ type: "text", text: "x" }], isError: undefined },
      { content: [{ type: "text", text: "lone \ud800" }] },
      // not the text-only shape: canonicalised in full
      { content: [{ type: "text", text: "x", annotations: { priority: 1 } }] },
      { content: [{ type: "image", data: "AAAA", mimeType: "image/png" }] },
      { content: [{ type: "text", text: "x" }], structuredContent: { b: 1, a: 2 } },
      { content: [{ type: "text", text: 5 }] },
      { content: [null] },
      { content: "text" },
      { content: [{ type: "text", text: "x" }], isError: "yes" },
      [1, 2],
      "plain",
      { content: [Object.assign(Object.create(null) as object, { type: "text", text: "x" })] },
    ];
    for (const c of cases) expect(resultDigest(c), JSON.stringify(c)).toBe(digest(c));
  });
});
