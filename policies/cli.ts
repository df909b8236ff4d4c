/**
 * `portcullis policy`: build the default bundle, evaluate an input file in one or both engines
 * (with a parity verdict), and run the Rego unit tests. Evaluation reads the input as JSON text
 * and hands that text to the engines unchanged, so integers above 2^53 reach the policy exactly.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Command } from "../cli.js";
import type { PolicyDecision } from "../contracts/index.js";
import { errorMessage, UsageError } from "../gateway/errors.js";
import { canonicalize } from "../native/index.js";
import { defaultBundlePath, loadBundle } from "./bundle.js";
import type { EngineName } from "./engine.js";
import { evaluateDecision, failClosed, instantiate } from "./service.js";

const USAGE = `Usage:
  portcullis policy build [--force]          compile rego/ into rego/build/bundle.tar.gz (needs opa)
  portcullis policy eval --input F [--engine ts|rust|both] [--bundle B] [--data D]
                                             print the decision; 'both' adds a parity verdict
  portcullis policy test                     run 'opa test' on rego/ with the reason-code registry`;

/** The repository root, from the sources (policies/) and from dist/policies/. */
function repoFile(rel: string): string {
  const up = import.meta.url.includes("/dist/policies/") ? "../../" : "../";
  return fileURLToPath(new URL(up + rel, import.meta.url));
}

async function opaPath(): Promise<string> {
  const toolchain = (await import(repoFile("scripts/toolchain.mjs"))) as { opaPath(): string };
  return toolchain.opaPath();
}

async function decideWith(engine: EngineName, bundlePath: string, data: Buffer | undefined, input: string) {
  let bundle: Awaited<ReturnType<typeof loadBundle>>;
  try {
    bundle = await loadBundle(bundlePath, data);
  } catch (e) {
    return failClosed("POLICY_NO_BUNDLE", errorMessage(e));
  }
  try {
    return evaluateDecision(await instantiate(engine, bundle), input);
  } catch (e) {
    return failClosed("POLICY_ERROR", errorMessage(e));
  }
}

async function evalCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      input: { type: "string" },
      engine: { type: "string", default: "both" },
      bundle: { type: "string" },
      data: { type: "string" },
    },
  });
  if (!values.input) throw new UsageError(`--input is required\n${USAGE}`);
  const choice = values.engine;
  if (choice !== "ts" && choice !== "rust" && choice !== "both")
    throw new UsageError("--engine is ts, rust or both");
  const input = readFileSync(values.input, "utf8");
  const data = values.data ? readFileSync(values.data) : undefined;
  const bundlePath = values.bundle ?? defaultBundlePath();
  const engines: EngineName[] = choice === "both" ? ["ts", "rust"] : [choice];
  const decisions: PolicyDecision[] = [];
  for (const engine of engines) decisions.push(await decideWith(engine, bundlePath, data, input));
  const [first, second] = decisions;
  console.log(JSON.stringify(first, null, 2));
  if (second === undefined) return 0;
  if (canonicalize(first) === canonicalize(second)) {
    console.log("parity: identical (ts, rust)");
    return 0;
  }
  console.log(`rust decision:\n${JSON.stringify(second, null, 2)}`);
  console.error(`parity: DIVERGENCE between ts and rust on ${values.input}`);
  return 1;
}

async function buildCommand(argv: string[]): Promise<number> {
  const args = [repoFile("scripts/build-policy.mjs"), ...argv.filter((a) => a === "--force")];
  return spawnSync(process.execPath, args, { stdio: "inherit" }).status ?? 1;
}

async function testCommand(): Promise<number> {
  const opa = await opaPath();
  const args = ["test", repoFile("rego"), repoFile("contracts/reason-codes.json")];
  const r = spawnSync(opa, [...args, "--ignore", "build", "--ignore", "capabilities.json", "-v"], {
    stdio: "inherit",
  });
  if (r.error) throw new UsageError(`cannot run opa at ${opa} (run npm run setup): ${r.error.message}`);
  return r.status ?? 1;
}

export const policyCommand: Command = {
  summary: "Build, evaluate and test the Rego policy bundle",
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === "eval") return evalCommand(rest);
    if (sub === "build") return buildCommand(rest);
    if (sub === "test") return testCommand();
    throw new UsageError(sub ? `unknown subcommand '${sub}'\n${USAGE}` : USAGE);
  },
};
