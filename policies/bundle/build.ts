/**
 * `bundle build`: compiles a Rego folder into an OPA bundle with the project's pinned `opa`,
 * pinned capabilities and entrypoint (the same compile step as `scripts/build-policy.mjs`, which
 * this calls), then completes the manifest with Portcullis metadata (the folder's
 * `projection.json` as `input_projection`, checked like the hosts check it) and adds the folder's
 * `portcullis.smoke.json` if it has one. The revision defaults to the script's deterministic
 * source revision, so one folder always builds to the same revision and the same bytes.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PortcullisError } from "../../gateway/errors.js";
import { parseInputProjection } from "../projection.js";
import { readBundleArchive, writeBundleArchive } from "./archive.js";
import { readSmokeCases, SMOKE_FILE } from "./smoke.js";

interface BuildScript {
  ENTRYPOINT: string;
  compileRego(opts: {
    srcDir: string;
    outPath: string;
    revision: string;
    ignore?: string[];
    cwd?: string;
  }): void;
  sourceRevision(dir?: string): string;
  /** The folder's `projection.json`, checked; undefined when it has none. */
  readProjection(dir: string): unknown;
}

interface Toolchain {
  OPA_VERSION: string;
}

/** A file of the repository, from the sources (policies/bundle/) and from dist/policies/bundle/. */
export function repoFile(rel: string): string {
  const up = import.meta.url.includes("/dist/policies/") ? "../../../" : "../../";
  return fileURLToPath(new URL(up + rel, import.meta.url));
}

async function buildScript(): Promise<BuildScript & Toolchain> {
  const script = (await import(repoFile("scripts/build-policy.mjs"))) as BuildScript;
  const toolchain = (await import(repoFile("scripts/toolchain.mjs"))) as Toolchain;
  return { ...script, OPA_VERSION: toolchain.OPA_VERSION };
}

export interface BuildOptions {
  srcDir: string;
  outPath: string;
  revision?: string;
  /** Extra manifest metadata (merged under `metadata`). */
  metadata?: Record<string, unknown>;
}

export interface BuildResult {
  outPath: string;
  revision: string;
  files: string[];
  bytes: number;
}

function readAuthoredManifest(srcDir: string): { roots?: string[]; metadata?: Record<string, unknown> } {
  let text: string;
  try {
    text = readFileSync(join(srcDir, ".manifest"), "utf8");
  } catch {
    return {};
  }
  let doc: { roots?: unknown; metadata?: unknown };
  try {
    doc = JSON.parse(text) as { roots?: unknown; metadata?: unknown };
  } catch {
    throw new PortcullisError("GW_ERR_USAGE", `${join(srcDir, ".manifest")} is not JSON`);
  }
  const roots = doc.roots;
  if (roots !== undefined && (!Array.isArray(roots) || !roots.every((r) => typeof r === "string")))
    throw new PortcullisError("GW_ERR_USAGE", ".manifest roots must be an array of strings");
  const metadata = doc.metadata;
  if (
    metadata !== undefined &&
    (metadata === null || typeof metadata !== "object" || Array.isArray(metadata))
  )
    throw new PortcullisError("GW_ERR_USAGE", ".manifest metadata must be an object");
  return {
    ...(roots ? { roots: roots as string[] } : {}),
    ...(metadata ? { metadata: metadata as Record<string, unknown> } : {}),
  };
}

export async function buildBundle(opts: BuildOptions): Promise<BuildResult> {
  const s = await buildScript();
  const srcDir = resolve(opts.srcDir);
  const revision = opts.revision ?? s.sourceRevision(srcDir);
  if (!/^[\x21-\x7e]{1,128}$/.test(revision))
    throw new PortcullisError("GW_ERR_USAGE", "--revision must be 1-128 printable ASCII characters");
  const scratch = mkdtempSync(join(tmpdir(), "portcullis-bundle-"));
  try {
    const compiled = join(scratch, "bundle.tar.gz");
    s.compileRego({
      srcDir: ".",
      cwd: srcDir,
      outPath: compiled,
      revision,
      ignore: [SMOKE_FILE, ".signatures.json", ".manifest"],
    });
    const files = readBundleArchive(readFileSync(compiled));
    const manifestBytes = files.get(".manifest");
    const manifest = manifestBytes
      ? (JSON.parse(Buffer.from(manifestBytes).toString("utf8")) as Record<string, unknown>)
      : { revision, roots: [""] };
    // A `.manifest` in the source folder contributes its roots and metadata (opa build ignores it).
    const authored = readAuthoredManifest(srcDir);
    let projection: unknown;
    try {
      projection = s.readProjection(srcDir);
      if (projection !== undefined) parseInputProjection(projection);
    } catch (e) {
      throw new PortcullisError("GW_ERR_USAGE", e instanceof Error ? e.message : String(e));
    }
    if (authored.roots !== undefined) manifest.roots = authored.roots;
    manifest.metadata = {
      ...(manifest.metadata as Record<string, unknown> | undefined),
      ...authored.metadata,
      portcullis: {
        entrypoint: s.ENTRYPOINT,
        opa_version: s.OPA_VERSION,
        capabilities: "rego/capabilities.json",
        ...(projection === undefined ? {} : { input_projection: projection }),
      },
      ...opts.metadata,
    };
    const out = new Map<string, Uint8Array>([[".manifest", Buffer.from(JSON.stringify(manifest))]]);
    for (const [name, bytes] of files) if (name !== ".manifest") out.set(name, bytes);
    let smoke: Buffer | undefined;
    try {
      smoke = readFileSync(join(srcDir, SMOKE_FILE));
    } catch {
      smoke = undefined;
    }
    if (smoke) {
      out.set(SMOKE_FILE, smoke);
      readSmokeCases(out); // a malformed smoke file fails the build, not the activation
    }
    const archive = writeBundleArchive(out);
    const tmp = `${opts.outPath}.${process.pid}.tmp`;
    writeFileSync(tmp, archive);
    renameSync(tmp, opts.outPath);
    return { outPath: opts.outPath, revision, files: [...out.keys()], bytes: archive.length };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
