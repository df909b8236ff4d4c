/**
 * The `portcullis.lock` file: one pin per qualified tool name, written with sorted keys so diffs
 * stay small and reviewable, and replaced atomically (temp file, fsync, rename, fsync folder) so
 * a reader never sees half a file.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { PortcullisError } from "../errors.js";

const Hash = z.string().regex(/^[0-9a-f]{64}$/, "a lower-case sha256 hex digest");
const Time = z.iso.datetime({ offset: true });

/** One pinned tool. */
export const PinEntry = z.strictObject({
  hash: Hash.describe("digest of the approved definition"),
  first_seen: Time,
  approved_at: Time,
  approved_by: z.string().min(1),
  pending_hash: Hash.optional().describe("digest of a changed definition awaiting approval"),
  pending_since: Time.optional(),
});
export type PinEntry = z.infer<typeof PinEntry>;

export const LockDocument = z.strictObject({
  v: z.literal(1),
  tools: z.record(z.string().min(1), PinEntry),
});
export type LockDocument = z.infer<typeof LockDocument>;

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      // defineProperty: a key "__proto__" (a tool's name) must stay a key.
      const v = sortKeys((value as Record<string, unknown>)[k]);
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/** The file's text: sorted keys, two-space indent, trailing newline. */
export function renderLock(doc: LockDocument): string {
  return `${JSON.stringify(sortKeys(doc), null, 2)}\n`;
}

/** Reads a lock file; a missing file is an empty lock, an invalid one an error naming the problem. */
export function readLock(path: string): LockDocument {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { v: 1, tools: {} };
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PortcullisError("GW_ERR_CONFIG", `lock file ${path} is not JSON: ${(e as Error).message}`);
  }
  const result = LockDocument.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new PortcullisError(
      "GW_ERR_CONFIG",
      `lock file ${path} is invalid at ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
  }
  // zod rebuilds records by assignment, which drops a "__proto__" key; rebuild from the parsed
  // JSON (whose keys are own properties) with the validated entries.
  const raw = (parsed as { tools: Record<string, unknown> }).tools;
  const tools: Record<string, PinEntry> = {};
  for (const tool of Object.keys(raw)) {
    const entry = PinEntry.safeParse(raw[tool]);
    if (!entry.success) {
      const issue = entry.error.issues[0]!;
      throw new PortcullisError(
        "GW_ERR_CONFIG",
        `lock file ${path} is invalid at tools.${tool}.${issue.path.join(".")}: ${issue.message}`,
      );
    }
    Object.defineProperty(tools, tool, {
      value: entry.data,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { v: 1, tools };
}

/** Replaces the lock file atomically. */
export function writeLock(path: string, doc: LockDocument): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(tmp, "wx", 0o644);
  try {
    const buf = Buffer.from(renderLock(doc));
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  const dfd = openSync(dir, "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
