/**
 * Rust policy engine reached through the napi addon (`PolicyEngine` in native/napi/src/policy.rs):
 * the same policy.wasm on a synchronous wasmi host, with the same memory bound and the same
 * (empty) host-builtin allowlist as the TypeScript engine.
 */

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { PortcullisError } from "../gateway/errors.js";
import type { PolicyEvaluator } from "./engine.js";

interface NativePolicyEngine {
  evaluate(inputJson: string | Uint8Array): string;
}

interface NativePolicyBinding {
  PolicyEngine: new (wasm: Uint8Array, dataJson: string | Uint8Array) => NativePolicyEngine;
}

let cached: { binding?: NativePolicyBinding; reason?: string } | undefined;

function addonPaths(): string[] {
  if (process.env.PORTCULLIS_NATIVE_PATH) return [process.env.PORTCULLIS_NATIVE_PATH];
  const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
  return [here("../native/portcullis.node"), here("../../native/portcullis.node")];
}

/** The addon's policy binding, or a reason why it is unavailable (PORTCULLIS_NATIVE=0 included). */
export function nativePolicyBinding(): { binding?: NativePolicyBinding; reason?: string } {
  cached ??= loadBinding();
  return cached;
}

function loadBinding(): { binding?: NativePolicyBinding; reason?: string } {
  const env = process.env.PORTCULLIS_NATIVE;
  if (env === "0" || env === "false" || env === "off") return { reason: `PORTCULLIS_NATIVE=${env}` };
  const require = createRequire(import.meta.url);
  const errors: string[] = [];
  for (const path of addonPaths()) {
    if (!existsSync(path)) {
      errors.push(`${path}: not found`);
      continue;
    }
    try {
      const mod = require(path) as Partial<NativePolicyBinding>;
      if (typeof mod.PolicyEngine === "function") return { binding: mod as NativePolicyBinding };
      errors.push(`${path}: no PolicyEngine export (stale build; run npm run setup)`);
    } catch (e) {
      errors.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { reason: errors.join("; ") };
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
