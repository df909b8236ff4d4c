/**
 * Workspace file search as both cores run it. The request is already resolved and checked by
 * `Workspace` (native/fallback/workspace.ts): canonical root and start inside it, a pattern that
 * compiled as an ECMAScript RegExp with the `u` flag, and limits.
 */

export interface FileSearchRequest {
  /** Canonical absolute root the start lies in. */
  root: string;
  /** Canonical absolute directory or file to search. */
  start: string;
  /** Show paths as `<root>/<rel>` (several roots) rather than `<rel>`. */
  prefixRoot: boolean;
  /** ECMAScript RegExp source, matched per line with the `u` flag. */
  pattern: string;
  caseInsensitive: boolean;
  maxResults: number;
  maxFiles: number;
  maxFileBytes: number;
}

export interface SearchMatch {
  path: string;
  /** 1-based line number. */
  line: number;
  /** 1-based UTF-16 column of the first match on the line. */
  column: number;
  /** The line, cut at 500 UTF-16 units (never inside a surrogate pair). */
  text: string;
}

export interface FileSearchResult {
  matches: SearchMatch[];
  filesScanned: number;
  truncated: boolean;
  /** True when the search stopped because it was cancelled. */
  cancelled: boolean;
}
