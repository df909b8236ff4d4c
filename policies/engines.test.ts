import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultBundlePath, loadBundle } from "./bundle.js";
import { createRustEvaluator, nativePolicyBinding } from "./native-engine.js";
import { createTsEvaluator } from "./wasm-engine.js";

const input = {
  v: 1,
  action: "tools/call",
  principal: { id: "alice", roles: ["user"], authenticated: true, via: "api_key" },
  target: {
    kind: "tool",
    name: "workspace__write_file",
    server: "workspace",
    annotations: { destructiveHint: true },
  },
  arguments: { path: "a" },
  data_classes: ["email"],
  context: { time: "2026-11-24T10:00:00Z", request_id: "r1", transport: "http" },
};

describe("policy engines", async () => {
  const bundle = await loadBundle(defaultBundlePath());
  const ts = await createTsEvaluator(bundle.wasm, bundle.data);

  it("the TS engine returns the decision as the module's JSON text", () => {
    const set = JSON.parse(ts.evaluate(JSON.stringify(input))) as [{ result: { decision: string } }];
    expect(set).toHaveLength(1);
    expect(set[0].result.decision).toBe("ask_user");
  });

  it("accepts input as bytes and as text with identical results", () => {
    const text = JSON.stringify(input);
    expect(ts.evaluate(new TextEncoder().encode(text))).toBe(ts.evaluate(text));
  });

  it("grows memory for a large input and refuses one beyond the bound", () => {
    const big = { ...input, arguments: { blob: "x".repeat(2_000_000) } };
    expect(JSON.parse(ts.evaluate(JSON.stringify(big)))[0].result.decision).toBe("ask_user");
    const huge = { ...input, arguments: { blob: "y".repeat(70 * 1024 * 1024) } };
    expect(() => ts.evaluate(JSON.stringify(huge))).toThrow(/memory/);
  });

  it("refuses a corrupted policy.wasm at load", async () => {
    const bad = bundle.wasm.slice(0, 1000);
    await expect(createTsEvaluator(bad, bundle.data)).rejects.toThrow(/does not load/);
  });

  it("refuses data that is not JSON", async () => {
    await expect(createTsEvaluator(bundle.wasm, new TextEncoder().encode("{nope"))).rejects.toThrow(/JSON/);
  });

  it.runIf(nativePolicyBinding().binding)("Rust and TS give byte-identical result sets", () => {
    const rs = createRustEvaluator(bundle.wasm, bundle.data);
    const text = JSON.stringify(input).replace('"path":"a"', '"path":"a","n":123456789012345678901234567890');
    expect(rs.evaluate(text)).toBe(ts.evaluate(text));
    expect(() => createRustEvaluator(bundle.wasm.slice(0, 1000), bundle.data)).toThrow(/does not load/);
  });

  it("the committed policy.wasm is the one inside the bundle", () => {
    const extracted = readFileSync(new URL("../rego/build/policy.wasm", import.meta.url));
    expect(Buffer.compare(extracted, Buffer.from(bundle.wasm))).toBe(0);
  });
});
