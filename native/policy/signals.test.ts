/**
 * The Rust policy host elides bounds checks: an out-of-bounds access in a module faults into a
 * guard page and wasmtime's signal handler turns it into a trap. Node's V8 handles its own wasm
 * faults the same way with its own handler. This proves, in one Node process, that the two
 * coexist: traps and memory-limit failures in either engine become errors, in any order, and
 * both engines keep answering afterwards.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultBundlePath, loadBundle } from "../../policies/bundle.js";
import type { PolicyEvaluator } from "../../policies/engine.js";
import { createRustEvaluator, nativePolicyBinding } from "../../policies/native-engine.js";
import { createTsEvaluator } from "../../policies/wasm-engine.js";

const trapWasm = readFileSync(new URL("./tests/fixtures/trap.wasm", import.meta.url));
const data = new TextEncoder().encode("{}");
const READ_ONLY = JSON.stringify({
  v: 1,
  action: "tools/call",
  principal: { id: "alice", roles: ["user"], authenticated: true, via: "api_key" },
  target: { kind: "tool", name: "docs__search", server: "docs", annotations: { readOnlyHint: true } },
  arguments: {},
  data_classes: [],
  context: { time: "t", request_id: "r", transport: "http" },
});

function decisionOf(resultSet: string): string {
  return (JSON.parse(resultSet) as [{ result: { decision: string } }])[0].result.decision;
}

describe.skipIf(!nativePolicyBinding().binding)(
  "wasm traps in the TS and Rust engines of one process",
  () => {
    it("turns out-of-bounds accesses and unreachable into errors in both, in any order", async () => {
      const rust = createRustEvaluator(trapWasm, data);
      const ts = await createTsEvaluator(trapWasm, data);
      const engines: PolicyEvaluator[] = [rust, ts, rust, ts, ts, rust];
      for (const e of engines) {
        expect(() => e.evaluate("oob"), e.engine).toThrow(/out of bounds/);
        expect(() => e.evaluate("unreachable"), e.engine).toThrow(/unreachable/);
        expect(e.evaluate("fine"), e.engine).toBe("[]");
      }
    });

    it("survives memory-limit failures in both engines on the default bundle", async () => {
      const bundle = await loadBundle(defaultBundlePath());
      const rust = createRustEvaluator(bundle.wasm, bundle.data);
      const ts = await createTsEvaluator(bundle.wasm, bundle.data);
      const huge = `{"blob":"${"x".repeat(70 * 1024 * 1024)}"}`;
      for (const e of [rust, ts]) {
        expect(() => e.evaluate(huge), e.engine).toThrow(/memory/);
        expect(decisionOf(e.evaluate(READ_ONLY)), e.engine).toBe("allow");
      }
      // And a trap in the other module right after, then the policy again.
      const trapRust = createRustEvaluator(trapWasm, data);
      expect(() => trapRust.evaluate("oob")).toThrow(/out of bounds/);
      expect(decisionOf(rust.evaluate(READ_ONLY))).toBe("allow");
      expect(decisionOf(ts.evaluate(READ_ONLY))).toBe("allow");
    });
  },
);
