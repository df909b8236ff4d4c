/**
 * The one interface both policy engines implement: evaluate the compiled entrypoint on an input
 * given as JSON text and return the module's result set as JSON text (`[]` = undefined). Text in
 * and text out keeps both hosts byte-comparable and lets integers above 2^53 pass untouched.
 */

export type EngineName = "ts" | "rust";

export interface PolicyEvaluator {
  readonly engine: EngineName;
  /** Throws on trap, abort or memory limit; callers turn that into a fail-closed decision. */
  evaluate(inputJson: string | Uint8Array): string;
}

/** Largest linear memory a policy may use, in 64 KiB pages (64 MiB); the Rust host uses the same. */
export const MAX_MEMORY_PAGES = 1024;

/** Entrypoint of the default bundle; bundles with a single entrypoint also work. */
export const DEFAULT_ENTRYPOINT = "portcullis/gateway/decision";

/** Host builtins both engines implement identically: none, so a module importing any is refused. */
export const HOST_BUILTIN_ALLOWLIST: readonly string[] = [];
