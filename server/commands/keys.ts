/**
 * `portcullis keys create|list|revoke`: API keys for the HTTP gateway kept in `keys.json` under
 * the configured `dataDir` (see server/auth/key-store.ts for why a SHA-256 digest is what is
 * stored). `create` prints the new key once on stdout — it cannot be shown again — and the record
 * (without the secret) on stderr; `list` prints the records as JSON lines or a table; `revoke`
 * marks the principal's active key revoked, which a running gateway notices within 200 ms.
 */
import { parseArgs } from "node:util";
import type { Command } from "../../cli.js";
import { loadConfig } from "../../gateway/config/load.js";
import { UsageError } from "../../gateway/errors.js";
import { createKey, keyFilePath, readKeyFile, revokeKey } from "../auth/key-store.js";
import { SCOPES } from "../auth/scopes.js";

const USAGE = `Usage:
  portcullis keys create --id ID [--role R]... [--scope S]... [--config FILE]
  portcullis keys list [--json] [--all] [--config FILE]
  portcullis keys revoke --id ID [--config FILE]
Scopes restrict a key to some routes (none: full access): ${Object.keys(SCOPES).join(", ")}`;

export const keysCommand: Command = {
  summary: "Create, list and revoke API keys (stored hashed under dataDir)",
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values } = parseArgs({
      args: rest,
      options: {
        config: { type: "string", short: "c" },
        id: { type: "string" },
        role: { type: "string", multiple: true },
        scope: { type: "string", multiple: true },
        json: { type: "boolean" },
        all: { type: "boolean" },
      },
    });
    const { config, baseDir } = loadConfig(values.config);
    const file = keyFilePath(config, baseDir);
    switch (sub) {
      case "create": {
        if (!values.id) throw new UsageError(`keys create needs --id\n${USAGE}`);
        const { key, record } = createKey(file, {
          id: values.id,
          roles: values.role ?? [],
          scopes: values.scope ?? [],
        });
        process.stdout.write(`${key}\n`);
        process.stderr.write(
          `portcullis: key for '${record.id}' (roles: ${record.roles.join(",") || "-"}; scopes: ${
            record.scopes.join(",") || "-"
          }) stored hashed in ${file}; it is shown only now\n`,
        );
        return 0;
      }
      case "list": {
        const keys = readKeyFile(file).filter((k) => values.all || !k.revoked_at);
        if (values.json) {
          for (const k of keys) {
            const { sha256: _digest, ...shown } = k;
            process.stdout.write(`${JSON.stringify(shown)}\n`);
          }
          return 0;
        }
        for (const k of keys)
          process.stdout.write(
            `${k.id.padEnd(24)} ${(k.roles.join(",") || "-").padEnd(20)} ${(k.scopes.join(",") || "-").padEnd(20)} ${k.created_at}${k.revoked_at ? ` revoked ${k.revoked_at}` : ""}\n`,
          );
        return 0;
      }
      case "revoke": {
        if (!values.id) throw new UsageError(`keys revoke needs --id\n${USAGE}`);
        if (!revokeKey(file, values.id)) {
          process.stderr.write(`portcullis: no active key for '${values.id}'\n`);
          return 1;
        }
        process.stderr.write(`portcullis: revoked the key of '${values.id}'\n`);
        return 0;
      }
      default:
        throw new UsageError(`keys: expected create, list or revoke\n${USAGE}`);
    }
  },
};
