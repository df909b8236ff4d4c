/**
 * Generates the committed JSON Schemas from the zod sources: one file per contract document type
 * in `contracts/schema/<DocType>.json`, and the configuration schema `docs/portcullis.schema.json`
 * for editors. `npm run build && npm run schemas` rewrites them; the drift test in
 * `contracts/schema.test.ts` regenerates in memory and fails when a committed file differs.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { PortcullisConfig } from "../gateway/config/schema.js";
import { CONTRACT_DOCUMENTS, type ContractDocumentType } from "./validate.js";

/** Repo-relative path → file text (with a trailing newline), in a stable order. */
export function generateSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of Object.keys(CONTRACT_DOCUMENTS) as ContractDocumentType[]) {
    const schema = z.toJSONSchema(CONTRACT_DOCUMENTS[name], { io: "input", unrepresentable: "throw" });
    files.set(`contracts/schema/${name}.json`, render({ $schema: schema.$schema, title: name, ...schema }));
  }
  const config = z.toJSONSchema(PortcullisConfig, { io: "input", unrepresentable: "throw" });
  files.set(
    "docs/portcullis.schema.json",
    render({ $schema: config.$schema, title: "Portcullis configuration", ...config }),
  );
  return files;
}

function render(schema: object): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** The repository root, from either `contracts/` (sources) or `dist/contracts/` (compiled). */
export function repoRootFrom(moduleUrl: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  return here.endsWith(join("dist", "contracts")) ? resolve(here, "..", "..") : resolve(here, "..");
}

function writeAll(): void {
  const root = repoRootFrom(import.meta.url);
  for (const [rel, text] of generateSchemas()) {
    const file = join(root, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    console.log(`schemas: wrote ${rel}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) writeAll();
