/**
 * The embedded default's HTTP credential. With no API key configured and no opt-in loopback trust,
 * every HTTP caller would be anonymous and the default policy denies anonymous HTTP callers, so
 * `portcullis serve` would be useless out of the box. Instead, like a notebook server's token, the
 * gateway keeps a random bearer key in the data folder (mode 0600, created once, reused after) and
 * authenticates it as the local principal. The key never appears in logs; only its file does.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { PortcullisConfig } from "../../gateway/config/schema.js";

export const LOCAL_KEY_FILE = "local-api-key";

export interface LocalKey {
  config: PortcullisConfig;
  /** Absolute path of the key file; undefined when the config already says how to authenticate. */
  keyFile: string | undefined;
  created: boolean;
}

/** Returns the config unchanged when it configures API keys or loopback trust; else adds the local key. */
export function withLocalApiKey(config: PortcullisConfig, baseDir: string): LocalKey {
  if (config.auth.apiKeys.length > 0 || config.auth.localHttpPrincipal)
    return { config, keyFile: undefined, created: false };
  const keyFile = resolve(baseDir, config.dataDir, LOCAL_KEY_FILE);
  let created = false;
  const existing = existsSync(keyFile) ? readFileSync(keyFile, "utf8").trim() : "";
  if (existing.length < 32) {
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    created = true;
  }
  const apiKeys = [
    { id: config.auth.stdioPrincipal, key: `file:${keyFile}`, roles: [...config.auth.stdioRoles] },
  ];
  return { config: { ...config, auth: { ...config.auth, apiKeys } }, keyFile, created };
}
