/** SEP-2243 parameter headers: strict Base64 decoding and the header/body comparison. */
import { describe, expect, it } from "vitest";
import { decodeParamHeader, paramHeaderMismatch } from "./param-headers.js";

const schema = {
  type: "object",
  properties: { region: { type: "string", "x-mcp-header": "Region" }, note: { type: "string" } },
};

describe("Mcp-Param headers", () => {
  it("decodes =?base64?…?= strictly and keeps anything else literal", () => {
    expect(decodeParamHeader("=?base64?SGVsbG8=?=")).toBe("Hello");
    expect(decodeParamHeader("=?base64?SGVsbG8?=")).toBeUndefined(); // missing padding
    expect(decodeParamHeader("=?base64?SGVs!!!bG8=?=")).toBeUndefined(); // not the alphabet
    expect(decodeParamHeader("=?base64?SGVsbG8=")).toBe("=?base64?SGVsbG8=");
    expect(decodeParamHeader("eu-west")).toBe("eu-west");
  });

  it("names the first mirrored parameter whose header is missing, malformed or different", () => {
    const h = (v?: string) => new Headers(v === undefined ? {} : { "Mcp-Param-Region": v });
    expect(paramHeaderMismatch(schema, { region: "eu" }, h("eu"))).toBeUndefined();
    expect(paramHeaderMismatch(schema, { region: "eu" }, h("=?base64?ZXU=?="))).toBeUndefined();
    expect(paramHeaderMismatch(schema, { region: "eu" }, h())).toMatch(/missing/);
    expect(paramHeaderMismatch(schema, { region: "eu" }, h("us"))).toMatch(/does not match/);
    expect(paramHeaderMismatch(schema, { region: "eu" }, h("=?base64?ZXU?="))).toMatch(/Base64/);
    // Parameters without x-mcp-header, absent arguments and schemas without properties pass.
    expect(paramHeaderMismatch(schema, { note: "x" }, h())).toBeUndefined();
    expect(paramHeaderMismatch({ type: "object" }, { region: "eu" }, h())).toBeUndefined();
  });
});
