/**
 * The one config loader: reads `portcullis.json` or `portcullis.yaml`, validates it with zod and
 * reports every problem with the file, the path inside it and what was expected.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { PortcullisConfig } from "./schema.js";

export interface LoadedConfig {
  config: PortcullisConfig;
  /** Absolute path of the file, or undefined for the embedded default. */
  file: string | undefined;
  /** Folder relative paths in the config resolve against. */
  baseDir: string;
}

const DEFAULT_NAMES = ["portcullis.json", "portcullis.yaml", "portcullis.yml"];

function describeIssue(issue: z.core.$ZodIssue): string {
  const where =
    issue.path.length === 0
      ? "(root)"
      : issue.path
          .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
          .join("")
          .replace(/^\./, "");
  return `  at ${where}: ${issue.message}`;
}

/** Validates an already parsed document; `file` only names it in errors. */
export function validateConfig(doc: unknown, file = "<config>"): PortcullisConfig {
  const parsed = PortcullisConfig.safeParse(doc ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map(describeIssue);
    throw new ConfigError(`invalid configuration in ${file}:\n${lines.join("\n")}`, {
      file,
      issues: parsed.error.issues,
    });
  }
  return parsed.data;
}

function parseText(text: string, file: string): unknown {
  const ext = extname(file).toLowerCase();
  try {
    if (ext === ".yaml" || ext === ".yml") return parseYaml(text, { prettyErrors: true });
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`cannot parse ${file}: ${(e as Error).message}`, { file });
  }
}

/**
 * Loads the config named by `path`; with no path, the first of portcullis.json/.yaml/.yml in
 * `cwd`; with none present, the embedded default.
 */
export function loadConfig(path?: string, cwd = process.cwd()): LoadedConfig {
  let file = path ? resolve(cwd, path) : DEFAULT_NAMES.map((n) => resolve(cwd, n)).find((f) => existsSync(f));
  if (!file) return { config: validateConfig({}, "<embedded default>"), file: undefined, baseDir: cwd };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(
      `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { file },
    );
  }
  file = resolve(file);
  return { config: validateConfig(parseText(text, file), file), file, baseDir: dirname(file) };
}
