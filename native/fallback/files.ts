/**
 * TypeScript fallback of workspace list and read. The Rust twin (native/core/src/workspace/
 * files.rs) takes the same steps: a listing walks depth first in byte order of names, never
 * follows symlinks nor enters `.git`, and stops at the limit; a read takes a byte range, calls
 * the file binary when its first 8 KiB hold a NUL, and decodes the range as lossy UTF-8.
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { FileRange, ListEntry, ListRequest, ListResult, ReadRequest } from "../files-types.js";

const BINARY_SNIFF = 8192;

/** How a path is shown: relative with '/', `.` for the root, or prefixed with the root. */
export function displayPath(root: string, prefixRoot: boolean, abs: string): string {
  const rel = relative(root, abs).split(sep).join("/");
  return prefixRoot ? `${root}${rel ? `/${rel}` : ""}` : rel || ".";
}

/** Entries under a directory, depth first, names in byte order. */
export function listFiles(req: ListRequest): ListResult {
  const entries: ListEntry[] = [];
  let truncated = false;
  const walk = (dir: string, level: number): void => {
    const names = readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      if (entries.length >= req.limit) {
        truncated = true;
        return;
      }
      const full = join(dir, name);
      const st = lstatSync(full);
      const type = st.isSymbolicLink()
        ? "symlink"
        : st.isDirectory()
          ? "dir"
          : st.isFile()
            ? "file"
            : "other";
      const path = displayPath(req.root, req.prefixRoot, full);
      entries.push(type === "file" ? { path, type, size: st.size } : { path, type });
      if (type === "dir" && level < req.depth && name !== ".git") {
        walk(full, level + 1);
        if (truncated) return;
      }
    }
  };
  walk(req.start, 1);
  return { entries, truncated };
}

/** A byte range of a regular file, with binary detection. */
export function readFile(req: ReadRequest): FileRange {
  const fd = openSync(req.path, "r");
  try {
    const size = fstatSync(fd).size;
    const bytes = Math.max(0, Math.min(req.want, size - req.offset));
    const sniff = Buffer.alloc(Math.min(BINARY_SNIFF, size));
    readSync(fd, sniff, 0, sniff.length, 0);
    const binary = sniff.includes(0);
    const base = { size, bytes, truncated: req.offset + bytes < size, binary };
    if (binary) return base;
    const buf = Buffer.alloc(bytes);
    readSync(fd, buf, 0, bytes, req.offset);
    return { ...base, text: buf.toString("utf8") };
  } finally {
    closeSync(fd);
  }
}
