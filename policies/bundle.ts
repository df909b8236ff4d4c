/**
 * Reads OPA policy bundles (`.tar.gz` holding `.manifest`, `policy.wasm`, `data.json`) into
 * memory with bounds on entry count and size, and computes the policy hash that stamps every
 * decision. The data document stays JSON text so integers beyond 2^53 survive to the engines.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { PortcullisError } from "../gateway/errors.js";
import { sha256Hex } from "../native/index.js";

/** The committed default bundle, resolved from the sources and from dist/policies/. */
export function defaultBundlePath(): string {
  const rel = import.meta.url.includes("/dist/policies/")
    ? "../../rego/build/bundle.tar.gz"
    : "../rego/build/bundle.tar.gz";
  return fileURLToPath(new URL(rel, import.meta.url));
}

export const MAX_BUNDLE_ENTRIES = 1024;
export const MAX_ENTRY_BYTES = 64 * 1024 * 1024;
/** Most bytes a bundle may unpack to in all. */
export const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

export interface PolicyBundle {
  wasm: Uint8Array;
  /** Data document as JSON text (`{}` when the bundle has none). */
  data: Uint8Array;
  revision: string;
  /** sha256 of policy.wasm, NUL, data.json: what the engines actually run. */
  policyHash: string;
}

function bundleError(message: string, cause?: unknown): PortcullisError {
  return new PortcullisError("GW_ERR_BUNDLE", message, cause === undefined ? undefined : { cause });
}

/** Regular files of a gzipped ustar archive, by name without a leading slash. */
export function readTarGz(bytes: Uint8Array): Map<string, Uint8Array> {
  let tar: Buffer;
  try {
    tar = gunzipSync(bytes, { maxOutputLength: MAX_BUNDLE_BYTES });
  } catch (e) {
    throw bundleError("bundle is not a gzip archive", e);
  }
  const files = new Map<string, Uint8Array>();
  const text = (at: number, len: number) =>
    tar
      .subarray(at, at + len)
      .toString("latin1")
      .replace(/\0.*$/s, "");
  let off = 0;
  let entries = 0;
  while (off + 512 <= tar.length) {
    if (tar.subarray(off, off + 512).every((b) => b === 0)) break;
    if (++entries > MAX_BUNDLE_ENTRIES) throw bundleError("bundle has too many entries");
    const size = Number.parseInt(text(off + 124, 12).trim() || "0", 8);
    if (!Number.isFinite(size) || size < 0 || size > MAX_ENTRY_BYTES || off + 512 + size > tar.length) {
      throw bundleError("bundle entry has a bad size");
    }
    const prefix = text(off + 345, 155);
    const name = (prefix ? `${prefix}/` : "") + text(off, 100);
    const type = text(off + 156, 1);
    if (type === "0" || type === "")
      files.set(name.replace(/^\/+/, ""), tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

export function policyHashOf(wasm: Uint8Array, data: Uint8Array): string {
  const joined = new Uint8Array(wasm.length + 1 + data.length);
  joined.set(wasm, 0);
  joined.set(data, wasm.length + 1);
  return sha256Hex(joined);
}

/** Parses a bundle archive held in memory; `data` (JSON text) replaces the bundle's data.json. */
export function parseBundle(bytes: Uint8Array, data?: Uint8Array): PolicyBundle {
  const files = readTarGz(bytes);
  const wasm = files.get("policy.wasm");
  if (!wasm) throw bundleError("bundle holds no policy.wasm");
  let revision = "";
  const manifest = files.get(".manifest");
  if (manifest) {
    try {
      const m = JSON.parse(Buffer.from(manifest).toString("utf8")) as { revision?: unknown };
      if (typeof m.revision === "string") revision = m.revision;
    } catch (e) {
      throw bundleError("bundle .manifest is not JSON", e);
    }
  }
  const bundleData = data ?? files.get("data.json") ?? new TextEncoder().encode("{}");
  if (data) revision = `${revision}+data.${sha256Hex(data).slice(0, 12)}`;
  return { wasm, data: bundleData, revision, policyHash: policyHashOf(wasm, bundleData) };
}

export async function loadBundle(path: string, data?: Uint8Array): Promise<PolicyBundle> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw bundleError(`cannot read policy bundle ${path}`, e);
  }
  return parseBundle(bytes, data);
}
