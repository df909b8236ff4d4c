/**
 * Project-owned toolchain set-up: builds the Rust workspace (release, for the napi addon and the
 * `portcullis-policy` binary), installs the pinned `opa` through `go install` into a cache keyed
 * by its version, then compiles the default policy bundle. Each step is skipped when its output
 * is already current, so a second run takes seconds.
 *
 * `--optional` (used by `npm install`): a missing Rust or Go toolchain is reported once and the
 * gateway keeps running on the TypeScript fallbacks and the committed default bundle.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { cargoEnv, cargoTargetDir, hasCommand, OPA_VERSION, opaPath, repoRoot } from "./toolchain.mjs";

const optional = process.argv.includes("--optional");
const started = Date.now();
const missing = [];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: repoRoot, ...opts });
  if (r.status !== 0) {
    console.error(`setup: ${cmd} ${args.join(" ")} failed with exit code ${r.status}`);
    process.exit(r.status || 1);
  }
}

function step(name, fn) {
  const t = Date.now();
  fn();
  console.log(`setup: ${name} ${((Date.now() - t) / 1000).toFixed(1)}s`);
}

function copyIfNewer(from, to) {
  if (!existsSync(from)) throw new Error(`setup: expected build output ${from} is missing`);
  if (
    existsSync(to) &&
    statSync(to).mtimeMs >= statSync(from).mtimeMs &&
    statSync(to).size === statSync(from).size
  )
    return;
  copyFileSync(from, to);
}

if (hasCommand("cargo")) {
  step("rust release build", () => {
    run("cargo", ["build", "--release", "--workspace", "--quiet"], { env: cargoEnv() });
    const release = join(cargoTargetDir(), "release");
    const lib =
      process.platform === "darwin"
        ? "libportcullis_napi.dylib"
        : process.platform === "win32"
          ? "portcullis_napi.dll"
          : "libportcullis_napi.so";
    copyIfNewer(join(release, lib), join(repoRoot, "native", "portcullis.node"));
    mkdirSync(join(repoRoot, "native", "bin"), { recursive: true });
    const exe = process.platform === "win32" ? "portcullis-policy.exe" : "portcullis-policy";
    copyIfNewer(join(release, exe), join(repoRoot, "native", "bin", exe));
  });
} else {
  missing.push("Rust (cargo): the native core is not built; the TypeScript fallbacks will be used");
}

if (existsSync(opaPath())) {
  console.log(`setup: opa ${OPA_VERSION} reused from cache`);
} else if (hasCommand("go", ["version"])) {
  step(`go install opa ${OPA_VERSION}`, () => {
    const gobin = join(opaPath(), "..");
    mkdirSync(gobin, { recursive: true });
    run("go", ["install", `github.com/open-policy-agent/opa@${OPA_VERSION}`], {
      env: { ...process.env, GOBIN: gobin, GOFLAGS: "-mod=mod" },
    });
  });
} else {
  missing.push(`Go: opa ${OPA_VERSION} is not installed; the committed default policy bundle will be used`);
}

const buildPolicy = join(repoRoot, "scripts", "build-policy.mjs");
if (existsSync(opaPath()) && existsSync(buildPolicy)) {
  step("policy bundle", () => run(process.execPath, [buildPolicy]));
}

if (missing.length > 0) {
  for (const m of missing) console.warn(`setup: missing ${m}`);
  if (!optional) process.exit(1);
}
console.log(`setup: done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
