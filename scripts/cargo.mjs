/** Runs cargo with the project's shared target folder, passing arguments through. */
import { spawnSync } from "node:child_process";
import { cargoEnv, repoRoot } from "./toolchain.mjs";

const r = spawnSync("cargo", process.argv.slice(2), { stdio: "inherit", cwd: repoRoot, env: cargoEnv() });
process.exit(r.status ?? 1);
