/**
 * `portcullis bundle`: build a signed-ready OPA bundle from a Rego folder, sign it, verify it and
 * inspect it. Keys are given by reference (`env:NAME`, `file:path`, or a path to a PEM file), never
 * as literals on the command line where `ps` would show them. Every subcommand reads archives with
 * the hardened reader, so `verify` and `inspect` refuse exactly what the gateway would refuse.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Command } from "../../cli.js";
import { isSecretRef, resolveSecret } from "../../gateway/config/secrets.js";
import { errorMessage, PortcullisError, UsageError } from "../../gateway/errors.js";
import { readBundleArchive, writeBundleArchive } from "./archive.js";
import { buildBundle } from "./build.js";
import { bundleFileHash } from "./json-hash.js";
import {
  createSignaturesFile,
  isSigningAlgorithm,
  SIGNATURES_FILE,
  type SigningAlgorithm,
  signatureKeyId,
  verifyBundleSignature,
} from "./signing.js";

const USAGE = `Usage:
  portcullis bundle build <dir> -o <out.tar.gz> [--revision R]
        compile a Rego folder with the pinned opa and capabilities (entrypoint
        portcullis/gateway/decision); adds <dir>/portcullis.smoke.json if present
  portcullis bundle sign <bundle.tar.gz> --key K [--alg RS256|ES256|HS256|...] [--kid ID]
        [--scope S] [--iss ISSUER] [-o out.tar.gz]     write .signatures.json (in place by default)
  portcullis bundle verify <bundle.tar.gz> --key K [--alg A] [--kid ID] [--scope S]
  portcullis bundle inspect <bundle.tar.gz> [--key K --alg A] [--json]
Keys: env:NAME, file:PATH or a PEM file path (private key to sign, public key to verify;
an HMAC secret for HS*).`;

/** Reads a key given by reference or by PEM file path. */
export function readKey(ref: string): string {
  if (isSecretRef(ref)) return resolveSecret(ref);
  if (!existsSync(ref)) throw new UsageError(`--key ${ref}: no such file (use env:NAME or file:PATH)`);
  return readFileSync(ref, "utf8");
}

function algorithm(value: string | undefined): SigningAlgorithm {
  const alg = value ?? "RS256";
  if (!isSigningAlgorithm(alg)) throw new UsageError(`--alg ${alg} is not a supported JWT algorithm`);
  return alg;
}

function onePath(positionals: string[], what: string): string {
  if (positionals.length !== 1 || !positionals[0])
    throw new UsageError(`exactly one ${what} is required\n${USAGE}`);
  return positionals[0];
}

const keyOptions = {
  key: { type: "string" },
  alg: { type: "string" },
  kid: { type: "string" },
  scope: { type: "string" },
} as const;

async function build(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: "string", short: "o" }, revision: { type: "string" } },
  });
  const dir = onePath(positionals, "source folder");
  if (!values.out) throw new UsageError(`-o <out.tar.gz> is required\n${USAGE}`);
  const r = await buildBundle({
    srcDir: dir,
    outPath: values.out,
    ...(values.revision ? { revision: values.revision } : {}),
  });
  console.log(`built ${r.outPath}: revision ${r.revision}, ${r.files.length} files, ${r.bytes} bytes`);
  return 0;
}

async function sign(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...keyOptions, iss: { type: "string" }, out: { type: "string", short: "o" } },
  });
  const path = onePath(positionals, "bundle");
  if (!values.key) throw new UsageError(`--key is required\n${USAGE}`);
  const files = readBundleArchive(readFileSync(path));
  files.delete(SIGNATURES_FILE);
  const text = createSignaturesFile(files, {
    key: readKey(values.key),
    algorithm: algorithm(values.alg),
    ...(values.kid ? { keyId: values.kid } : {}),
    ...(values.scope ? { scope: values.scope } : {}),
    ...(values.iss ? { issuer: values.iss } : {}),
  });
  files.set(SIGNATURES_FILE, Buffer.from(text));
  const out = values.out ?? path;
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, writeBundleArchive(files));
  renameSync(tmp, out); // never leaves a half-written bundle where a server may pick it up
  console.log(
    `signed ${out}: ${files.size - 1} files, ${algorithm(values.alg)}, kid ${values.kid ?? "default"}`,
  );
  return 0;
}

function verifyFiles(
  files: Map<string, Uint8Array>,
  values: { key?: string; alg?: string; kid?: string; scope?: string },
) {
  const id = values.kid ?? signatureKeyId(files) ?? "default";
  const key = { id, algorithm: algorithm(values.alg), key: readKey(values.key as string) };
  return verifyBundleSignature(files, new Map([[id, key]]), values.scope ? { scope: values.scope } : {});
}

async function verify(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: keyOptions });
  const path = onePath(positionals, "bundle");
  if (!values.key) throw new UsageError(`--key is required\n${USAGE}`);
  try {
    const check = verifyFiles(readBundleArchive(readFileSync(path)), values);
    console.log(
      `verified ${path}: ${check.files} files, key ${check.keyId} (${check.algorithm})` +
        (check.scope ? `, scope ${check.scope}` : ""),
    );
    return 0;
  } catch (e) {
    if (!(e instanceof PortcullisError) || e.code !== "GW_ERR_BUNDLE") throw e;
    console.error(`NOT verified ${path}: ${e.message} [${String(e.details?.reason)}]`);
    return 1;
  }
}

async function inspect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...keyOptions, json: { type: "boolean", default: false } },
  });
  const path = onePath(positionals, "bundle");
  const bytes = readFileSync(path);
  const files = readBundleArchive(bytes);
  const manifestBytes = files.get(".manifest");
  let manifest: unknown = null;
  if (manifestBytes) {
    try {
      manifest = JSON.parse(Buffer.from(manifestBytes).toString("utf8"));
    } catch {
      manifest = "(not JSON)";
    }
  }
  let signature: Record<string, unknown> = { status: "unsigned" };
  if (files.has(SIGNATURES_FILE)) {
    signature = { status: "signed, not verified (no --key)", kid: signatureKeyId(files) };
    if (values.key) {
      try {
        signature = { status: "verified", ...verifyFiles(files, values) };
      } catch (e) {
        const reason = e instanceof PortcullisError ? e.details?.reason : undefined;
        signature = { status: "INVALID", reason, message: errorMessage(e) };
      }
    }
  }
  const list = [...files].map(([name, b]) => ({ name, size: b.length, sha256: bundleFileHash(name, b) }));
  const report = { path, compressed_bytes: bytes.length, manifest, files: list, signature };
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`bundle ${path} (${bytes.length} bytes compressed)`);
    console.log(`manifest: ${JSON.stringify(manifest)}`);
    console.log("files:");
    for (const f of list) console.log(`  ${f.size.toString().padStart(9)}  ${f.sha256}  ${f.name}`);
    console.log(`signature: ${JSON.stringify(signature)}`);
  }
  return signature.status === "INVALID" ? 1 : 0;
}

const subcommands: Record<string, (argv: string[]) => Promise<number>> = { build, sign, verify, inspect };

export const bundleCommand: Command = {
  summary: "Build, sign, verify and inspect OPA-compatible policy bundles",
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    const run = sub ? subcommands[sub] : undefined;
    if (!run) throw new UsageError(`unknown or missing subcommand${sub ? ` '${sub}'` : ""}\n${USAGE}`);
    return run(rest);
  },
};
