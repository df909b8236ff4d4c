/**
 * Reads OPA policy bundles (`.tar.gz` holding `.manifest`, `policy.wasm`, `data.json`) into
 * memory through the hardened archive reader (policies/bundle/archive.ts), and computes the policy hash that stamps every
 * decision. The data document stays JSON text so integers beyond 2^53 survive to the engines.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { PortcullisError } from "../gateway/errors.js";
import { sha256Hex } from "../native/index.js";
import { readBundleArchive } from "./bundle/archive.js";
import { type InputProjection, parseInputProjection } from "./projection.js";

/** The committed default bundle, resolved from the sources and from dist/policies/. */
export function defaultBundlePath(): string {
  const rel = import.meta.url.includes("/dist/policies/")
    ? "../../rego/build/bundle.tar.gz"
    : "../rego/build/bundle.tar.gz";
  return fileURLToPath(new URL(rel, import.meta.url));
}

export interface PolicyBundle {
  wasm: Uint8Array;
  /** Data document as JSON text (`{}` when the bundle has none). */
  data: Uint8Array;
  revision: string;
  /** sha256 of policy.wasm, NUL, data.json: what the engines actually run. */
  policyHash: string;
  /** The parts of the input the policy reads (`metadata.portcullis.input_projection`), if declared. */
  projection?: InputProjection;
}

function bundleError(message: string, cause?: unknown): PortcullisError {
  return new PortcullisError("GW_ERR_BUNDLE", message, cause === undefined ? undefined : { cause });
}

/** Regular files of a bundle archive, read by the one hardened reader (limits, no links or traversal). */
export function readTarGz(bytes: Uint8Array): Map<string, Uint8Array> {
  return readBundleArchive(bytes);
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
  let projection: InputProjection | undefined;
  const manifest = files.get(".manifest");
  if (manifest) {
    let m: { revision?: unknown; metadata?: { portcullis?: { input_projection?: unknown } } };
    try {
      m = JSON.parse(Buffer.from(manifest).toString("utf8"));
    } catch (e) {
      throw bundleError("bundle .manifest is not JSON", e);
    }
    if (typeof m.revision === "string") revision = m.revision;
    const declared = m.metadata?.portcullis?.input_projection;
    // An invalid declaration fails the load (the caller fails closed): guessing what the policy
    // reads could hide members it needs.
    if (declared !== undefined) projection = parseInputProjection(declared);
  }
  const bundleData = data ?? files.get("data.json") ?? new TextEncoder().encode("{}");
  if (data) revision = `${revision}+data.${sha256Hex(data).slice(0, 12)}`;
  const bundle: PolicyBundle = {
    wasm,
    data: bundleData,
    revision,
    policyHash: policyHashOf(wasm, bundleData),
  };
  if (projection) bundle.projection = projection;
  return bundle;
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
