/**
 * Compiles rego/ into the default policy bundle `rego/build/bundle.tar.gz` (OPA bundle format,
 * wasm target) with the pinned opa, and extracts its `policy.wasm` beside it. The revision is the
 * sha256 of every input that shapes the output (Rego sources, data, capabilities, opa version),
 * so the same sources always give the same revision, and the build is skipped when the committed
 * bundle already carries it. `--force` rebuilds anyway; `--out DIR` writes elsewhere (used by the
 * staleness test); `--capabilities` regenerates rego/capabilities.json from the pinned opa.
 * `rego/projection.json` (the parts of the input the policy reads) is validated and written into
 * the manifest as `metadata.portcullis.input_projection`; the hosts then evaluate only those parts.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { OPA_VERSION, opaPath, repoRoot } from "./toolchain.mjs";

export const ENTRYPOINT = "portcullis/gateway/decision";
const regoDir = join(repoRoot, "rego");
/** The input projection declaration of a Rego folder (see policies/projection.ts). */
export const PROJECTION_FILE = "projection.json";

/**
 * Builtins compiled into OPA's wasm module: no host has to implement them, so both engines see
 * the same behaviour. Host builtins (time, crypto, http, sprintf, ...) are absent on purpose; the
 * explicit allowlist of host builtins is empty, and a test checks the compiled module imports none.
 */
const WASM_NATIVE = new Set(
  (
    "abs all and any array.concat array.reverse array.slice assign base64.decode base64.encode " +
    "base64.is_valid base64url.decode base64url.encode base64url.encode_no_pad bits.and bits.lsh " +
    "bits.negate bits.or bits.rsh bits.xor ceil concat contains count div endswith eq equal floor " +
    "format_int glob.match graph.reachable gt gte indexof internal.member_2 internal.member_3 " +
    "intersection is_array is_boolean is_null is_number is_object is_set is_string json.filter " +
    "json.marshal json.remove json.unmarshal lower lt lte max min minus mul neq net.cidr_contains " +
    "net.cidr_intersects net.cidr_overlap numbers.range object.filter object.get object.keys " +
    "object.remove object.union or plus product regex.find_all_string_submatch_n regex.is_valid " +
    "regex.match rem replace round sort split startswith substring sum to_number trim trim_left " +
    "trim_prefix trim_right trim_space trim_suffix type_name union upper walk"
  ).split(" "),
);
/** Host builtins both engines implement identically (kept empty: nothing needs one yet). */
export const HOST_BUILTIN_ALLOWLIST = [];

function opa(args, opts = {}) {
  const r = spawnSync(opaPath(), args, { cwd: repoRoot, encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new Error(`opa ${args[0]}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`opa ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function regenerateCapabilities() {
  const current = JSON.parse(opa(["capabilities", "--current"]));
  const allowed = new Set([...WASM_NATIVE, ...HOST_BUILTIN_ALLOWLIST]);
  const caps = {
    builtins: current.builtins.filter((b) => allowed.has(b.name)),
    future_keywords: current.future_keywords,
    features: current.features,
    wasm_abi_versions: current.wasm_abi_versions ?? [
      { version: 1, minor_version: 1 },
      { version: 1, minor_version: 2 },
      { version: 1, minor_version: 3 },
    ],
  };
  writeFileSync(join(regoDir, "capabilities.json"), `${JSON.stringify(caps, null, 1)}\n`);
}

/** Files that shape the bundle, sorted, relative to `root` (tests and build output excluded). */
export function bundleSources(root = regoDir) {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (relative(root, p) !== "build") walk(p);
      } else if (
        (e.name.endsWith(".rego") && !e.name.endsWith("_test.rego")) ||
        e.name === "data.json" ||
        (e.name === PROJECTION_FILE && dir === root)
      ) {
        out.push(relative(root, p).split("\\").join("/"));
      }
    }
  };
  walk(root);
  return out.sort();
}

/** Deterministic revision: sha256 over opa version, capabilities and each source's path + bytes. */
export function sourceRevision(root = regoDir) {
  const h = createHash("sha256");
  h.update(`opa ${OPA_VERSION}\0entrypoint ${ENTRYPOINT}\0layout 2\0`);
  h.update(readFileSync(join(regoDir, "capabilities.json")));
  for (const f of bundleSources(root)) {
    h.update(`\0${f}\0`);
    h.update(readFileSync(join(root, f)));
  }
  return h.digest("hex").slice(0, 32);
}

/** Minimal reader of a gzipped ustar archive: name → bytes of its regular files. */
export function readTarGz(bytes) {
  const tar = gunzipSync(bytes);
  const files = new Map();
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (s, n) =>
      header
        .subarray(s, s + n)
        .toString("latin1")
        .replace(/\0.*$/s, "");
    const size = Number.parseInt(field(124, 12).trim() || "0", 8);
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : "") + field(0, 100);
    const type = field(156, 1);
    if (type === "0" || type === "")
      files.set(name.replace(/^\/+/, ""), tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/**
 * One `opa build` of a Rego folder to a wasm bundle with the pinned opa, the pinned capabilities
 * and the gateway entrypoint (shared with `portcullis bundle build`); `ignore` adds patterns.
 * Module paths inside the bundle are `srcDir` as given, resolved from `cwd` (default: the repo).
 */
export function compileRego({ srcDir, outPath, revision, ignore = [], cwd = repoRoot }) {
  const args = [
    "build",
    "-t",
    "wasm",
    "-e",
    ENTRYPOINT,
    "--capabilities",
    join(regoDir, "capabilities.json"),
  ];
  args.push("-r", revision, "-o", outPath, "--ignore", "*_test.rego", "--ignore", "build");
  args.push("--ignore", "capabilities.json", "--ignore", "*.md", "--ignore", PROJECTION_FILE);
  for (const pattern of ignore) args.push("--ignore", pattern);
  opa([...args, srcDir], { cwd });
}

/** A gzipped ustar archive of `files` with fixed metadata, in the given order: reproducible. */
export function writeTarGz(files) {
  const blocks = [];
  for (const [name, body] of files) {
    const header = Buffer.alloc(512);
    header.write(name, 0, 100, "utf8");
    header.write("0000644\0", 100);
    header.write("0000000\0", 108);
    header.write("0000000\0", 116);
    header.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124);
    header.write("00000000000\0", 136);
    header.write("0", 156);
    header.write("ustar\0" + "00", 257);
    header.fill(0x20, 148, 156);
    const sum = header.reduce((a, b) => a + b, 0);
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    blocks.push(header, Buffer.from(body), Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

/** The data document: every data.json under rego/, nested under its folder path. */
function mergedData() {
  const root = {};
  for (const f of bundleSources().filter((f) => f.endsWith("data.json"))) {
    const path = f.split("/").slice(0, -1);
    let node = root;
    for (const key of path.slice(0, -1)) node = node[key] ??= {};
    const value = JSON.parse(readFileSync(join(regoDir, f), "utf8"));
    if (path.length === 0) Object.assign(root, value);
    else node[path.at(-1)] = value;
  }
  return root;
}

function projectionFault(path, message) {
  return new Error(`${PROJECTION_FILE}: ${path} ${message}`);
}

function checkTree(tree, path, depth) {
  if (tree === true) return;
  if (tree === null || typeof tree !== "object" || Array.isArray(tree))
    throw projectionFault(path, "must be true or an object of members");
  if (depth >= 32) throw projectionFault(path, "is nested deeper than 32");
  for (const [name, sub] of Object.entries(tree))
    checkTree(sub, `${path}.${JSON.stringify(name)}`, depth + 1);
}

/**
 * The folder's input projection declaration, checked like the hosts check it when a bundle loads
 * (`keep` a tree, optional `by_action` an object of trees, nothing else; a tree is `true` or an
 * object of trees), or undefined when the folder has none.
 */
export function readProjection(dir) {
  const path = join(dir, PROJECTION_FILE);
  if (!existsSync(path)) return undefined;
  let doc;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${PROJECTION_FILE} is not JSON: ${e.message}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw projectionFault("the declaration", "must be an object with keep and optional by_action");
  for (const key of Object.keys(doc))
    if (key !== "keep" && key !== "by_action") throw projectionFault(JSON.stringify(key), "is not a member");
  if (!("keep" in doc)) throw projectionFault("keep", "is missing");
  checkTree(doc.keep, "keep", 0);
  if (doc.by_action !== undefined) {
    if (doc.by_action === null || typeof doc.by_action !== "object" || Array.isArray(doc.by_action))
      throw projectionFault("by_action", "must be an object of trees by action");
    for (const [action, tree] of Object.entries(doc.by_action))
      checkTree(tree, `by_action.${JSON.stringify(action)}`, 0);
  }
  return doc;
}

/** opa's manifest with the projection under `metadata.portcullis.input_projection`. */
export function withProjection(manifestBytes, projection) {
  if (projection === undefined) return manifestBytes;
  const manifest = JSON.parse(manifestBytes.toString("utf8"));
  const metadata = manifest.metadata ?? {};
  manifest.metadata = { ...metadata, portcullis: { ...metadata.portcullis, input_projection: projection } };
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * Builds the bundle. opa compiles the Rego alone, then the archive is rewritten with the merged
 * data document and fixed metadata (mtime 0, uid 0, sorted entries), so the same sources give
 * byte-identical bundles on every machine and CI can compare them exactly.
 */
export function buildBundle({ outDir = join(regoDir, "build"), force = false } = {}) {
  const revision = sourceRevision();
  const bundlePath = join(outDir, "bundle.tar.gz");
  if (!force && existsSync(bundlePath)) {
    const manifest = readTarGz(readFileSync(bundlePath)).get(".manifest");
    if (manifest && JSON.parse(manifest.toString("utf8")).revision === revision) {
      return { revision, bundlePath, skipped: true };
    }
  }
  mkdirSync(outDir, { recursive: true });
  const compiled = join(outDir, "opa-build.tar.gz");
  const args = ["build", "-t", "wasm", "-e", ENTRYPOINT, "--capabilities", "rego/capabilities.json"];
  args.push("-r", revision, "-o", compiled, "--ignore", "*_test.rego", "--ignore", "build");
  args.push("--ignore", "capabilities.json", "--ignore", "*.md", "--ignore", "*.ts", "--ignore", "data.json");
  args.push("--ignore", PROJECTION_FILE);
  opa([...args, "rego/"]);
  const built = readTarGz(readFileSync(compiled));
  rmSync(compiled);
  const wasm = built.get("policy.wasm");
  const opaManifest = built.get(".manifest");
  if (!wasm || !opaManifest) throw new Error("opa build produced no policy.wasm or .manifest");
  const manifest = withProjection(opaManifest, readProjection(regoDir));
  const files = [
    [".manifest", manifest],
    ["data.json", Buffer.from(JSON.stringify(mergedData()))],
    ["policy.wasm", wasm],
    ...[...built].filter(([n]) => n.endsWith(".rego")).sort(([a], [b]) => (a < b ? -1 : 1)),
  ];
  writeFileSync(bundlePath, writeTarGz(files));
  writeFileSync(join(outDir, "policy.wasm"), wasm);
  return { revision, bundlePath, skipped: false };
}

if (process.argv[1] && import.meta.url.endsWith(relative(repoRoot, process.argv[1]).split("\\").join("/"))) {
  const argv = process.argv.slice(2);
  if (argv.includes("--capabilities")) regenerateCapabilities();
  const outIdx = argv.indexOf("--out");
  const outDir = outIdx >= 0 ? argv[outIdx + 1] : undefined;
  const ciCheck = process.env.CI && !outDir && !argv.includes("--force");
  const before = existsSync(join(regoDir, "build", "bundle.tar.gz"))
    ? readFileSync(join(regoDir, "build", "bundle.tar.gz"))
    : undefined;
  const r = buildBundle({ ...(outDir ? { outDir } : {}), force: argv.includes("--force") });
  console.log(`policy bundle ${r.skipped ? "up to date" : "built"}: revision ${r.revision}`);
  // In CI the committed bundle must already be current: rebuilding it silently would hide a stale one.
  if (ciCheck && !r.skipped) {
    const after = readFileSync(r.bundlePath);
    if (!before?.equals(after)) {
      console.error(
        "build-policy: the committed rego/build/bundle.tar.gz is stale; run `npm run setup` and commit it",
      );
      process.exit(1);
    }
  }
}
