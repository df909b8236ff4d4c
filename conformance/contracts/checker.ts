/**
 * Runs the Rust contract checker (`contract-check`, built from native/core) over many documents
 * in one process and loads the fixture corpus. Shared by the TS/Rust conformance test and the
 * contract benchmark, so both compare exactly the same documents the same way.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
/** Repository root, from either conformance/contracts/ or dist/conformance/contracts/. */
export const repoRoot = here.includes(`${join("dist", "conformance")}`)
  ? resolve(here, "..", "..", "..")
  : resolve(here, "..", "..");

// Loaded by path so the compiled copy under dist/ finds the same script (scripts/ is not compiled).
const toolchain = (await import(
  pathToFileURL(join(repoRoot, "scripts", "toolchain.mjs")).href
)) as typeof import("../../scripts/toolchain.mjs");

/** Folder of the fixture documents: `<DocType>/{valid,invalid}/*.json`. */
export const FIXTURES_DIR = join(repoRoot, "conformance", "contracts");

export interface Fixture {
  type: string;
  expected: "valid" | "invalid";
  name: string;
  file: string;
  text: string;
}

/** Every fixture document, sorted by type, folder and name. */
export function loadFixtures(dir = FIXTURES_DIR): Fixture[] {
  const fixtures: Fixture[] = [];
  for (const type of readdirSync(dir, { withFileTypes: true })) {
    if (!type.isDirectory()) continue;
    for (const expected of ["valid", "invalid"] as const) {
      const folder = join(dir, type.name, expected);
      if (!existsSync(folder)) continue;
      for (const name of readdirSync(folder).sort()) {
        if (!name.endsWith(".json")) continue;
        const file = join(folder, name);
        fixtures.push({ type: type.name, expected, name, file, text: readFileSync(file, "utf8") });
      }
    }
  }
  return fixtures.sort((a, b) => a.file.localeCompare(b.file));
}

/** The checker binary from the release build of the workspace (scripts/setup.mjs builds it). */
export function contractCheckerPath(): string {
  const exe = process.platform === "win32" ? "contract-check.exe" : "contract-check";
  const path = join(toolchain.cargoTargetDir(), "release", exe);
  if (!existsSync(path)) {
    throw new Error(
      `contract-check is not built (no ${path}): run \`node scripts/setup.mjs\` or ` +
        "`node scripts/cargo.mjs build --release -p portcullis-core --bins`",
    );
  }
  return path;
}

export interface CheckRequest {
  type: string;
  text: string;
  repeat?: number;
}

export interface CheckResponse {
  valid: boolean;
  error?: string;
  /** Validation time measured by the checker, summed over `repeat` runs. */
  ns: number;
}

/** Validates every request with the Rust mirror in one checker process (bounded by `timeoutMs`). */
export function runContractChecker(requests: CheckRequest[], timeoutMs = 60_000): CheckResponse[] {
  const input = requests.map((r) => JSON.stringify(r)).join("\n") + "\n";
  const run = spawnSync(contractCheckerPath(), [], {
    input,
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw new Error(`contract-check failed to run: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`contract-check exited with ${run.status}: ${run.stderr}`);
  const lines = run.stdout.split("\n").filter((l) => l.length > 0);
  if (lines.length !== requests.length) {
    throw new Error(`contract-check answered ${lines.length} lines for ${requests.length} documents`);
  }
  return lines.map((l) => JSON.parse(l) as CheckResponse);
}
