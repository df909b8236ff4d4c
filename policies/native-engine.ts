/**
 * Rust policy engine reached through the napi addon (`PolicyEngine` in native/napi/src/policy.rs):
 * the same policy.wasm on a synchronous wasmtime (Cranelift) host, with the same memory bound and
 * the same (empty) host-builtin allowlist as the TypeScript engine.
 */

import { PortcullisError } from "../gateway/errors.js";
import { loadNative, nativeStatus } from "../native/loader.js";
import type { PolicyEvaluator } from "./engine.js";

interface NativePolicyEngine {
  evaluate(inputJson: string | Uint8Array): string;
}

interface NativePolicyBinding {
  PolicyEngine: new (wasm: Uint8Array, dataJson: string | Uint8Array) => NativePolicyEngine;
}

let cached: { binding?: NativePolicyBinding; reason?: string } | undefined;

/** The addon's policy binding, or a reason why it is unavailable (PORTCULLIS_NATIVE=0 included). */
export function nativePolicyBinding(): { binding?: NativePolicyBinding; reason?: string } {
  cached ??= loadBinding();
  return cached;
}

function loadBinding(): { binding?: NativePolicyBinding; reason?: string } {
  // The one native loader (env override, local build, fallback notice) serves the policy too.
  const addon = loadNative() as unknown as Partial<NativePolicyBinding> | null;
  if (!addon) return { reason: nativeStatus().reason ?? "native core unavailable" };
  if (typeof addon.PolicyEngine !== "function") {
    return { reason: "the addon has no PolicyEngine export (stale build; run npm run setup)" };
  }
  return { binding: addon as NativePolicyBinding };
}

/** Instantiates `wasm` with `data` in the Rust host. Throws when the addon or module is unusable. */
export function createRustEvaluator(wasm: Uint8Array, data: Uint8Array): PolicyEvaluator {
  const { binding, reason } = nativePolicyBinding();
  if (!binding) throw new PortcullisError("GW_ERR_NATIVE", `Rust policy engine unavailable: ${reason}`);
  let engine: NativePolicyEngine;
  try {
    engine = new binding.PolicyEngine(wasm, data);
  } catch (e) {
    throw new PortcullisError("GW_ERR_POLICY", `policy.wasm does not load in the Rust engine: ${String(e)}`, {
      cause: e,
    });
  }
  return {
    engine: "rust",
    evaluate: (inputJson) => engine.evaluate(inputJson),
  };
}
