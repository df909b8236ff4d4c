/**
 * The hardened reader and the deterministic writer of bundle archives (gzipped tar, OPA's bundle
 * format). The reader works on bytes held in memory and refuses, with a precise reason, anything a
 * bundle has no business containing: more compressed or uncompressed bytes than the limits allow
 * (a gzip bomb stops at the limit, it is never inflated fully), too many entries, over-long paths,
 * `..` segments, paths rooted outside the bundle, links, devices, and the same path twice. OPA
 * writes every entry with one leading `/` meaning "bundle root"; that form is accepted and
 * stripped. It is synchronous on purpose so the decision service's synchronous parser can use it.
 */
import { constants, gunzipSync, gzipSync } from "node:zlib";
import { PortcullisError } from "../../gateway/errors.js";

export interface ArchiveLimits {
  /** Largest accepted `.tar.gz`, in bytes. */
  maxCompressedBytes: number;
  /** Largest accepted tar stream once inflated, in bytes (bounds every file too). */
  maxUncompressedBytes: number;
  /** Most tar headers accepted (files, folders and extended headers alike). */
  maxEntries: number;
  /** Longest accepted entry path, in bytes. */
  maxPathBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxCompressedBytes: 32 * 1024 * 1024,
  maxUncompressedBytes: 128 * 1024 * 1024,
  maxEntries: 1024,
  maxPathBytes: 256,
};

/** Why an archive was refused; tests and the status object match on it. */
export type ArchiveRejection =
  | "compressed_too_large"
  | "uncompressed_too_large"
  | "not_gzip"
  | "bad_tar"
  | "too_many_entries"
  | "path_too_long"
  | "path_traversal"
  | "absolute_path"
  | "bad_path"
  | "link_entry"
  | "unsupported_entry"
  | "duplicate_entry";

export function archiveError(reason: ArchiveRejection, message: string, cause?: unknown): PortcullisError {
  return new PortcullisError("GW_ERR_BUNDLE", message, {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

const BLOCK = 512;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true });

function field(h: Uint8Array, at: number, len: number): string {
  const raw = h.subarray(at, at + len);
  const end = raw.indexOf(0);
  return latin1.decode(end < 0 ? raw : raw.subarray(0, end));
}

function octal(h: Uint8Array, at: number, len: number, what: string): number {
  if ((h[at] ?? 0) & 0x80) throw archiveError("bad_tar", `tar header has a binary ${what} field`);
  const text = field(h, at, len).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw archiveError("bad_tar", `tar header has a malformed ${what} field`);
  return Number.parseInt(text, 8);
}

function checksumOk(h: Uint8Array): boolean {
  const stored = octal(h, 148, 8, "checksum");
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
  return sum === stored;
}

/** PAX records `"<len> key=value\n"`; only `path` and `size` matter to a bundle. */
function paxRecords(body: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (e) {
    throw archiveError("bad_tar", "tar PAX header is not UTF-8", e);
  }
  let at = 0;
  while (at < text.length) {
    const space = text.indexOf(" ", at);
    const len = Number.parseInt(text.slice(at, space), 10);
    const record = Buffer.from(text.slice(at)).subarray(0, len).toString("utf8");
    if (space < 0 || !Number.isSafeInteger(len) || len <= 0 || !record.endsWith("\n"))
      throw archiveError("bad_tar", "tar PAX header is malformed");
    const kv = record.slice(space - at + 1, -1);
    const eq = kv.indexOf("=");
    if (eq <= 0) throw archiveError("bad_tar", "tar PAX record has no key");
    out.set(kv.slice(0, eq), kv.slice(eq + 1));
    at += record.length;
  }
  return out;
}

/** Bundle-relative path of an entry name, or a rejection naming the entry. */
export function normalizeEntryPath(raw: string, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): string {
  const shown = JSON.stringify(raw);
  if (Buffer.byteLength(raw) > limits.maxPathBytes)
    throw archiveError("path_too_long", `entry path longer than ${limits.maxPathBytes} bytes: ${shown}`);
  if (raw.includes("\\")) throw archiveError("bad_path", `entry path contains a backslash: ${shown}`);
  if (/[\u0000-\u001f\u007f]/.test(raw))
    throw archiveError("bad_path", `entry path contains a control character: ${shown}`);
  if (/^[A-Za-z]:/.test(raw) || raw.startsWith("//"))
    throw archiveError("absolute_path", `entry path is absolute outside the bundle root: ${shown}`);
  let name = raw.startsWith("/") ? raw.slice(1) : raw.startsWith("./") ? raw.slice(2) : raw;
  if (name.endsWith("/")) name = name.slice(0, -1);
  const segments = name.split("/");
  if (segments.includes(".."))
    throw archiveError("path_traversal", `entry path escapes the bundle: ${shown}`);
  if (name === "" || segments.some((s) => s === "" || s === "."))
    throw archiveError("bad_path", `entry path is empty or not normalised: ${shown}`);
  return name;
}

function inflate(bytes: Uint8Array, limits: ArchiveLimits): Buffer {
  if (bytes.length > limits.maxCompressedBytes)
    throw archiveError(
      "compressed_too_large",
      `bundle is ${bytes.length} bytes compressed; the limit is ${limits.maxCompressedBytes}`,
    );
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw archiveError("not_gzip", "bundle is not a gzip archive");
  try {
    return gunzipSync(bytes, { maxOutputLength: limits.maxUncompressedBytes });
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError)
      throw archiveError(
        "uncompressed_too_large",
        `bundle inflates beyond ${limits.maxUncompressedBytes} bytes (gzip bomb?); refused`,
        e,
      );
    throw archiveError("not_gzip", `bundle is not a valid gzip archive: ${(e as Error).message}`, e);
  }
}

/**
 * Regular files of a bundle archive, by bundle-relative path, in archive order. Folders are
 * checked and skipped. Throws `GW_ERR_BUNDLE` with `details.reason` an {@link ArchiveRejection}.
 */
export function readBundleArchive(
  bytes: Uint8Array,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Map<string, Uint8Array> {
  const tar = inflate(bytes, limits);
  const files = new Map<string, Uint8Array>();
  const seen = new Set<string>();
  let off = 0;
  let entries = 0;
  let longName: string | undefined;
  let pax: Map<string, string> | undefined;
  let ended = false;
  while (off + BLOCK <= tar.length) {
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) {
      ended = true;
      break;
    }
    if (++entries > limits.maxEntries)
      throw archiveError("too_many_entries", `bundle has more than ${limits.maxEntries} entries`);
    if (!checksumOk(h)) throw archiveError("bad_tar", `tar header checksum mismatch at offset ${off}`);
    const type = String.fromCharCode(h[156] ?? 0);
    let size = octal(h, 124, 12, "size");
    if (pax?.has("size")) size = Number(pax.get("size"));
    const bodyAt = off + BLOCK;
    if (!Number.isSafeInteger(size) || size < 0 || bodyAt + size > tar.length)
      throw archiveError("bad_tar", `tar entry at offset ${off} is truncated or has a bad size`);
    const body = tar.subarray(bodyAt, bodyAt + size);
    off = bodyAt + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x" || type === "L") {
      if (pax !== undefined || longName !== undefined)
        throw archiveError("bad_tar", "tar has two extended headers for one entry");
      if (type === "x") pax = paxRecords(body);
      else longName = field(body, 0, body.length);
      continue;
    }
    if (type === "g") continue; // global PAX header: nothing in it concerns a bundle
    const prefix = field(h, 345, 155);
    const raw = pax?.get("path") ?? longName ?? (prefix ? `${prefix}/` : "") + field(h, 0, 100);
    pax = undefined;
    longName = undefined;
    if (type === "5" && (raw === "./" || raw === "/" || raw === ".")) continue; // the root folder
    const name = normalizeEntryPath(raw, limits);
    if (type === "1" || type === "2")
      throw archiveError("link_entry", `bundle holds a ${type === "1" ? "hard" : "symbolic"} link: ${name}`);
    if (type !== "0" && type !== "\0" && type !== "5" && type !== "7")
      throw archiveError("unsupported_entry", `bundle entry ${name} has unsupported tar type '${type}'`);
    if (seen.has(name)) throw archiveError("duplicate_entry", `bundle holds ${name} twice`);
    seen.add(name);
    if (type !== "5") files.set(name, body);
  }
  if (!ended && off < tar.length) throw archiveError("bad_tar", "tar stream ends inside a header");
  if (pax !== undefined || longName !== undefined)
    throw archiveError("bad_tar", "tar ends after an extended header");
  return files;
}

function writeOctal(h: Buffer, at: number, len: number, value: number): void {
  h.write(`${value.toString(8).padStart(len - 1, "0")}\0`, at, len, "latin1");
}

function header(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, 0);
  h.write(type, 156, 1, "latin1");
  h.write("ustar\0", 257, 6, "latin1");
  h.write("00", 263, 2, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return h;
}

function pad(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/**
 * A deterministic `.tar.gz` of the given files in the given order, with OPA's `/name` convention,
 * zero mtimes and owners, so the same files always give the same bytes. `fast` trades size for
 * speed (used for the activator's internal canonical copy).
 */
export function writeBundleArchive(
  files: Iterable<[string, Uint8Array]>,
  opts: { fast?: boolean } = {},
): Buffer {
  const blocks: Buffer[] = [];
  for (const [rel, body] of files) {
    const name = `/${normalizeEntryPath(rel)}`;
    if (Buffer.byteLength(name) > 100) {
      const record = ` path=${name}\n`;
      const base = Buffer.byteLength(record);
      let len = base + 1;
      while (String(len).length + base !== len) len = base + String(len).length;
      const paxBody = Buffer.from(`${len}${record}`);
      blocks.push(header("././@PaxHeader", paxBody.length, "x"), paxBody, pad(paxBody.length));
    }
    blocks.push(header(name.slice(0, 100), body.length, "0"), Buffer.from(body), pad(body.length));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return gzipSync(Buffer.concat(blocks), {
    level: opts.fast ? constants.Z_BEST_SPEED : constants.Z_BEST_COMPRESSION,
  });
}
