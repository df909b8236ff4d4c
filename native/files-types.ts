/**
 * Workspace list and read as both cores run them. Requests are already resolved and checked by
 * `Workspace` (native/fallback/workspace.ts): canonical paths inside a root, a directory to
 * list or a regular file to read, a non-negative offset and a length capped at the configured
 * maximum.
 */

export interface ListRequest {
  /** Canonical absolute root the start lies in. */
  root: string;
  /** Canonical absolute directory to list. */
  start: string;
  /** Show paths as `<root>/<rel>` (several roots) rather than `<rel>`. */
  prefixRoot: boolean;
  /** 1 lists the directory itself; each level more descends into subdirectories (not `.git`). */
  depth: number;
  /** Most entries returned; more set `truncated`. */
  limit: number;
}

export interface ListEntry {
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  /** Size in bytes, for regular files. */
  size?: number;
}

export interface ListResult {
  entries: ListEntry[];
  truncated: boolean;
}

export interface ReadRequest {
  /** Canonical absolute path of a regular file. */
  path: string;
  offset: number;
  /** Bytes wanted, already capped. */
  want: number;
}

/** A byte range of a file; `text` (lossy UTF-8) is absent for binary files. */
export interface FileRange {
  size: number;
  bytes: number;
  truncated: boolean;
  binary: boolean;
  text?: string;
}
