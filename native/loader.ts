/**
 * Loader of the Rust addon. `PORTCULLIS_NATIVE=0` forces the TypeScript fallbacks; otherwise the
 * addon named by `PORTCULLIS_NATIVE_PATH` if set, else the local build (`native/portcullis.node`, written by scripts/setup.mjs) is loaded, looked up
 * relative to this module so it works from the sources under vitest and from `dist/native/`.
 * Every failed attempt is collected into one message, and falling back is announced once on
 * stderr. `nativeStatus()` says which implementation is in use and why.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { NativeBinding } from "./binding.js";

export type { NativeBinding } from "./binding.js";

/** Which implementation serves the native functions, and why. */
export interface NativeStatus {
  readonly implementation: "native" | "fallback";
  /** Path of the loaded addon, when native. */
  readonly path?: string;
  /** Version reported by the addon, when native. */
  readonly version?: string;
  /** Why the fallback is in use, when it is. */
  readonly reason?: string;
}

const REQUIRED_EXPORTS: readonly (keyof NativeBinding)[] = [
  "coreVersion",
  "canonicalizeJson",
  "digestJson",
  "sha256Hex",
  "scanText",
  "scanValueJson",
  "scanTextAsync",
  "scanValueJsonAsync",
  "redactValueJson",
  "redactValueJsonAsync",
  "NativeVectorIndex",
  "searchPatternError",
  "scanTextPacked",
  "canonicalizeStringified",
  "digestStringified",
  "scanTextPackedAsync",
  "NativeFileSearch",
  "listFilesAsync",
  "readFileAsync",
];

let loaded: LoadResult | undefined;
let warned = false;

function candidatePaths(): string[] {
  const fromEnv = process.env.PORTCULLIS_NATIVE_PATH;
  const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
  // Sources: native/loader.ts → native/portcullis.node; build: dist/native/loader.js → ../../native/.
  const paths = [here("./portcullis.node"), here("../../native/portcullis.node")];
  // An explicit path is the only candidate: whoever set it wants that build or a clear failure.
  return fromEnv ? [fromEnv] : paths;
}

function attempt(): LoadResult {
  const env = process.env.PORTCULLIS_NATIVE;
  if (env === "0" || env === "false" || env === "off") {
    return { binding: null, status: { implementation: "fallback", reason: `PORTCULLIS_NATIVE=${env}` } };
  }
  return loadAddon();
}

interface LoadResult {
  binding: NativeBinding | null;
  status: NativeStatus;
}

/**
 * Loads the addon whatever PORTCULLIS_NATIVE says (the parity suite needs both cores at once).
 * Does not warn; `loadNative()` is the entry for everything else.
 */
export function loadAddon(paths: readonly string[] = candidatePaths()): LoadResult {
  const require = createRequire(import.meta.url);
  const errors: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) {
      errors.push(`${path}: not found`);
      continue;
    }
    try {
      const mod = require(path) as Partial<NativeBinding>;
      const missing = REQUIRED_EXPORTS.filter((name) => typeof mod[name] !== "function");
      if (missing.length > 0) {
        errors.push(`${path}: stale build, missing ${missing.join(", ")} (run npm run setup)`);
        continue;
      }
      const binding = mod as NativeBinding;
      return { binding, status: { implementation: "native", path, version: binding.coreVersion() } };
    } catch (e) {
      errors.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { binding: null, status: { implementation: "fallback", reason: errors.join("; ") } };
}

/**
 * The Rust addon, or null when the fallbacks must be used. Loads once; the first fallback that
 * was not asked for is announced on stderr.
 */
export function loadNative(): NativeBinding | null {
  if (!loaded) {
    loaded = attempt();
    const { status } = loaded;
    if (status.implementation === "fallback" && !warned && !status.reason?.startsWith("PORTCULLIS_NATIVE=")) {
      warned = true;
      process.stderr.write(
        `portcullis: native core unavailable, using the TypeScript fallbacks (${status.reason})\n`,
      );
    }
  }
  return loaded.binding;
}

/** Which implementation is in use (loads the addon if that has not happened yet). */
export function nativeStatus(): NativeStatus {
  loadNative();
  return (loaded as { status: NativeStatus }).status;
}
