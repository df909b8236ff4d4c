/**
 * The API key file (`keys.json` under `dataDir`): keys made by `portcullis keys create`, stored
 * only as SHA-256 digests with their principal id, roles, scopes and creation time. A key is 32
 * random bytes (256 bits), so a slow password hash (scrypt) would add no brute-force margin — no
 * one guesses a 256-bit secret — and would cost tens of milliseconds on every request; an
 * unsalted SHA-256 digest of a uniformly random secret is as strong as the secret and lets the
 * authenticator compare digests in constant time per request. The file is written atomically
 * (temporary file, fsync, rename) with mode 0600; revoked keys stay listed with `revoked_at`.
 * `StoredKeys` re-reads the file when its size or mtime changes, so a running gateway sees
 * created and revoked keys without a restart.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import type { PortcullisConfig } from "../../gateway/config/schema.js";
import { ConfigError, UsageError } from "../../gateway/errors.js";
import type { StoredKeyDigest } from "../../gateway/pipeline/authenticate.js";
import { isScope, SCOPES } from "./scopes.js";

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/);

export const StoredKey = z.strictObject({
  id: Name,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  roles: z.array(Name),
  scopes: z.array(Name),
  created_at: z.iso.datetime(),
  revoked_at: z.iso.datetime().optional(),
});
export type StoredKey = z.infer<typeof StoredKey>;

const KeyFileDoc = z.strictObject({ v: z.literal(1), keys: z.array(StoredKey) });

/** The key file of a configuration. */
export function keyFilePath(config: PortcullisConfig, baseDir: string): string {
  return join(resolve(baseDir, config.dataDir), "keys.json");
}

/** The stored keys (empty when the file does not exist); a malformed file is a ConfigError. */
export function readKeyFile(path: string): StoredKey[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new ConfigError(`key file ${path}: ${(e as NodeJS.ErrnoException).code}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ConfigError(`key file ${path}: not JSON`);
  }
  const parsed = KeyFileDoc.safeParse(doc);
  if (!parsed.success) throw new ConfigError(`key file ${path}: ${parsed.error.issues[0]?.message}`);
  return parsed.data.keys;
}

function writeKeyFile(path: string, keys: StoredKey[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ v: 1, keys }, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export const keyDigest = (key: string): string => createHash("sha256").update(key).digest("hex");

/** Creates a key for principal `id`; returns the secret (shown once) and the stored record. */
export function createKey(
  path: string,
  opts: { id: string; roles?: string[]; scopes?: string[]; now?: Date },
): { key: string; record: StoredKey } {
  const unknown = (opts.scopes ?? []).filter((s) => !isScope(s));
  if (unknown.length > 0)
    throw new UsageError(`unknown scope ${unknown.join(", ")} (known: ${Object.keys(SCOPES).join(", ")})`);
  const keys = readKeyFile(path);
  if (keys.some((k) => k.id === opts.id && !k.revoked_at))
    throw new UsageError(`a key for '${opts.id}' exists; revoke it first`);
  const key = `pck_${randomBytes(32).toString("base64url")}`;
  const record = StoredKey.safeParse({
    id: opts.id,
    sha256: keyDigest(key),
    roles: opts.roles ?? [],
    scopes: opts.scopes ?? [],
    created_at: (opts.now ?? new Date()).toISOString(),
  });
  if (!record.success)
    throw new UsageError(`invalid key record: ${record.error.issues[0]?.path.join(".")} is malformed`);
  writeKeyFile(path, [...keys, record.data]);
  return { key, record: record.data };
}

/** Marks the active key of `id` revoked; false when there is none. */
export function revokeKey(path: string, id: string, now = new Date()): boolean {
  const keys = readKeyFile(path);
  const k = keys.find((x) => x.id === id && !x.revoked_at);
  if (!k) return false;
  k.revoked_at = now.toISOString();
  writeKeyFile(path, keys);
  return true;
}

/**
 * The active keys of a key file as digests for the authenticator, re-read when the file changes
 * (checked by `stat` at most every `recheckMs`, default 200 ms). A file that becomes unreadable
 * or malformed yields no keys (fail closed) until it is fixed.
 */
export function watchStoredKeys(path: string, recheckMs = 200): () => readonly ScopedKeyDigest[] {
  let stamp = "";
  let checkedAt = 0;
  let current: ScopedKeyDigest[] = [];
  const load = () => {
    let next = "absent";
    try {
      const st = statSync(path);
      next = `${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch {
      next = "absent";
    }
    if (next === stamp) return;
    stamp = next;
    try {
      current = readKeyFile(path)
        .filter((k) => !k.revoked_at)
        .map((k) => ({ id: k.id, roles: k.roles, scopes: k.scopes, digest: Buffer.from(k.sha256, "hex") }));
    } catch {
      current = [];
    }
  };
  return () => {
    const now = Date.now();
    if (now - checkedAt >= recheckMs) {
      checkedAt = now;
      load();
    }
    return current;
  };
}

/** A stored key's digest with its scopes (empty: unrestricted). */
export interface ScopedKeyDigest extends StoredKeyDigest {
  scopes: string[];
}

/**
 * The scopes of the stored key a bearer token is, or undefined when it is not a stored key
 * (configured `auth.apiKeys` carry no scopes: unrestricted).
 */
export function storedKeyScopes(
  keys: () => readonly ScopedKeyDigest[],
): (bearer: string) => string[] | undefined {
  return (bearer) => {
    const digest = createHash("sha256").update(bearer).digest();
    for (const k of keys())
      if (k.digest.length === digest.length && timingSafeEqual(k.digest, digest)) return k.scopes;
    return undefined;
  };
}
