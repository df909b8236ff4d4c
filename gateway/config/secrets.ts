/** Resolves secret references (`env:NAME`, `file:path`) at the moment they are needed. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../errors.js";

export function isSecretRef(value: string): boolean {
  return /^env:[A-Za-z_][A-Za-z0-9_]*$/.test(value) || value.startsWith("file:");
}

/** Returns the secret a reference points to; throws a ConfigError naming the reference (never the value). */
export function resolveSecret(
  ref: string,
  baseDir = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (ref.startsWith("env:")) {
    const name = ref.slice(4);
    const v = env[name];
    if (v === undefined)
      throw new ConfigError(`secret reference ${ref}: environment variable ${name} is not set`);
    return v;
  }
  if (ref.startsWith("file:")) {
    const path = resolve(baseDir, ref.slice(5));
    try {
      return readFileSync(path, "utf8").trim();
    } catch (e) {
      throw new ConfigError(
        `secret reference ${ref}: cannot read file (${(e as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  throw new ConfigError(`not a secret reference: expected env:NAME or file:path`);
}

/** Resolves values that are references and leaves plain values as they are (for env maps and headers). */
export function resolveMaybeSecret(value: string, baseDir?: string, env?: NodeJS.ProcessEnv): string {
  return isSecretRef(value) ? resolveSecret(value, baseDir, env) : value;
}
