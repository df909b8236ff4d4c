/**
 * Builds the decision service from the `policy` section of portcullis.json: bundle and data paths
 * resolve against the config file's folder, the data file is read as text (big integers stay
 * exact), and a data file that cannot be read is a configuration error at start-up rather than a
 * silent fallback to the bundle's own data.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { PortcullisConfig } from "../gateway/config/schema.js";
import { ConfigError } from "../gateway/errors.js";
import { createDecisionService, type DecisionService } from "./service.js";

export async function decisionServiceFromConfig(
  policy: PortcullisConfig["policy"],
  baseDir: string,
): Promise<DecisionService> {
  let data: string | undefined;
  if (policy.data !== undefined) {
    const path = resolve(baseDir, policy.data);
    try {
      data = await readFile(path, "utf8");
      JSON.parse(data);
    } catch (e) {
      throw new ConfigError(`policy.data: cannot use ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return createDecisionService({
    ...(policy.bundle !== undefined ? { bundlePath: resolve(baseDir, policy.bundle) } : {}),
    ...(data !== undefined ? { data } : {}),
    engine: policy.engine,
    cacheSize: policy.cacheSize,
  });
}
