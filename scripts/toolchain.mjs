/**
 * Where the project's toolchain artefacts live. Everything built or installed by the set-up
 * script goes into a per-user cache keyed by version, so a fresh clone on the same machine
 * (CI's included) reuses it instead of rebuilding.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Pinned OPA release used to compile rego/ to WebAssembly. */
export const OPA_VERSION = "v1.22.2";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function cacheDir() {
  const base =
    process.env.PORTCULLIS_CACHE ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "portcullis");
  return base;
}

/** Cargo's target folder, shared by every clone on this machine unless the caller set one. */
export function cargoTargetDir() {
  return process.env.CARGO_TARGET_DIR || join(cacheDir(), "cargo-target");
}

export function cargoEnv() {
  return { ...process.env, CARGO_TARGET_DIR: cargoTargetDir() };
}

export function opaPath() {
  if (process.env.PORTCULLIS_OPA) return process.env.PORTCULLIS_OPA;
  return join(cacheDir(), "opa", OPA_VERSION, "opa");
}

export function hasCommand(cmd, args = ["--version"]) {
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  return r.status === 0;
}

export function opaInstalled() {
  return existsSync(opaPath());
}
