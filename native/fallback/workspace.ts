/**
 * Workspace capability: list, read and search files inside configured roots. Every path is
 * canonicalised (realpath) and must stay inside a root: `..`, absolute paths elsewhere, symlinks
 * out of the root, symlink loops and Unicode look-alikes of `/` and `.` are refused with
 * GW_ERR_PATH_ESCAPE. Search honours .gitignore files, skips .git, binary files and symlinks,
 * and stops at its limits.
 */
import { realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { PortcullisError } from "../../gateway/errors.js";
import type { FileRange, ListEntry, ListRequest, ListResult, ReadRequest } from "../files-types.js";
import type { FileSearchRequest, FileSearchResult, SearchMatch } from "../search-types.js";
import { displayPath, listFiles, readFile } from "./files.js";
import { searchFiles } from "./search.js";

export interface WorkspaceOptions {
  maxReadBytes: number;
  /** Runs file searches (the native core's `searchFiles`); the TypeScript walker without one. */
  searcher?: (req: FileSearchRequest, signal?: AbortSignal) => Promise<FileSearchResult>;
  /** Lists directories (the native core's `listFiles`); the TypeScript walker without one. */
  lister?: (req: ListRequest) => Promise<ListResult>;
  /** Reads byte ranges (the native core's `readFile`); the TypeScript reader without one. */
  reader?: (req: ReadRequest) => Promise<FileRange>;
}

export type { ListEntry } from "../files-types.js";

export interface ReadResult {
  path: string;
  size: number;
  offset: number;
  bytes: number;
  truncated: boolean;
  binary: boolean;
  text?: string;
}

export type { SearchMatch } from "../search-types.js";

export interface SearchOptions {
  pattern: string;
  path?: string;
  caseInsensitive?: boolean;
  maxResults?: number;
  maxFiles?: number;
  maxFileBytes?: number;
  signal?: AbortSignal;
}

const MAX_PATH = 4096;

function pathEscape(message: string, path: string): PortcullisError {
  return new PortcullisError("GW_ERR_PATH_ESCAPE", message, { details: { path } });
}

function within(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

const SLASH_LOOK_ALIKES = /[\u2044\u2215\u29f8\u29f9\uff0f\uff3c\u2216\ufe68]/;
const segments = (s: string) => s.split(/[/\\]/);
const isDots = (seg: string) => seg === "." || seg === "..";

/** True when NFKC folding would turn the path into a different one, or it mimics a separator. */
function hasLookAlikes(path: string): boolean {
  if (SLASH_LOOK_ALIKES.test(path)) return true;
  const folded = path.normalize("NFKC");
  if (folded === path) return false;
  if (segments(folded).length !== segments(path).length) return true;
  return segments(folded).some((seg, i) => isDots(seg) && !isDots(segments(path)[i] as string));
}

export class Workspace {
  readonly roots: string[];

  constructor(
    roots: string[],
    private readonly opts: WorkspaceOptions,
  ) {
    if (roots.length === 0) throw new PortcullisError("GW_ERR_CONFIG", "workspace needs at least one root");
    this.roots = roots.map((r) => {
      try {
        return realpathSync(resolve(r));
      } catch (e) {
        throw new PortcullisError("GW_ERR_CONFIG", `workspace root ${r} is not accessible`, { cause: e });
      }
    });
  }

  /** Canonical absolute path of a request path, inside a root, and that root. */
  resolvePath(path: string): { abs: string; root: string } {
    if (typeof path !== "string" || path.length > MAX_PATH || path.includes("\0")) {
      throw pathEscape("path is empty, too long or contains NUL", String(path).slice(0, 200));
    }
    if (hasLookAlikes(path)) {
      throw pathEscape(`path ${JSON.stringify(path)} uses look-alike characters for "/", "\\" or "."`, path);
    }
    const first = this.roots[0] as string;
    const lexical = isAbsolute(path) ? resolve(path) : resolve(first, path);
    const root = this.roots.find((r) => within(r, lexical));
    if (!root) throw pathEscape(`path ${JSON.stringify(path)} is outside the workspace roots`, path);
    let real: string;
    try {
      real = realpathSync(lexical);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP") throw pathEscape(`path ${JSON.stringify(path)} runs into a symlink loop`, path);
      if (code === "ENOENT" || code === "ENOTDIR") {
        throw new PortcullisError("GW_ERR_NOT_FOUND", `no such file or directory: ${path}`, {
          details: { path },
        });
      }
      throw e;
    }
    if (!within(root, real))
      throw pathEscape(`path ${JSON.stringify(path)} resolves outside its root (symlink)`, path);
    return { abs: real, root };
  }

  /** Entries of a directory (sorted by name), optionally recursive up to a depth. */
  async list(path = ".", depth = 1, limit = 1000): Promise<{ entries: ListEntry[]; truncated: boolean }> {
    const { abs, root } = this.resolvePath(path);
    if (!statSync(abs).isDirectory()) throw new PortcullisError("GW_ERR_USAGE", `${path} is not a directory`);
    const req: ListRequest = { root, start: abs, prefixRoot: this.roots.length > 1, depth, limit };
    return this.opts.lister ? await this.opts.lister(req) : listFiles(req);
  }

  /** Reads a byte range of a file, capped at maxReadBytes; binary files return no text. */
  async read(path: string, offset = 0, length?: number): Promise<ReadResult> {
    const { abs, root } = this.resolvePath(path);
    const st = statSync(abs);
    if (!st.isFile()) throw new PortcullisError("GW_ERR_USAGE", `${path} is not a regular file`);
    if (!Number.isInteger(offset) || offset < 0)
      throw new PortcullisError("GW_ERR_USAGE", "offset must be >= 0");
    const want = Math.max(0, Math.min(length ?? this.opts.maxReadBytes, this.opts.maxReadBytes));
    const req: ReadRequest = { path: abs, offset, want };
    const range = this.opts.reader ? await this.opts.reader(req) : readFile(req);
    const shown = displayPath(root, this.roots.length > 1, abs);
    const base = { path: shown, size: range.size, offset, bytes: range.bytes };
    const flags = { truncated: range.truncated, binary: range.binary };
    return range.text === undefined ? { ...base, ...flags } : { ...base, ...flags, text: range.text };
  }

  /**
   * Regex search (ECMAScript, `u` flag, per line) over the files under a path, honouring
   * .gitignore; runs on the configured searcher (the native core) or the TypeScript walker.
   */
  async search(
    o: SearchOptions,
  ): Promise<{ matches: SearchMatch[]; filesScanned: number; truncated: boolean }> {
    if (o.pattern.length === 0 || o.pattern.length > 1000)
      throw new PortcullisError("GW_ERR_USAGE", "pattern must be 1..1000 characters");
    try {
      new RegExp(o.pattern, o.caseInsensitive ? "iu" : "u");
    } catch (e) {
      throw new PortcullisError("GW_ERR_USAGE", `invalid pattern: ${(e as Error).message}`);
    }
    const { abs, root } = this.resolvePath(o.path ?? ".");
    const req: FileSearchRequest = {
      root,
      start: abs,
      prefixRoot: this.roots.length > 1,
      pattern: o.pattern,
      caseInsensitive: o.caseInsensitive ?? false,
      maxResults: o.maxResults ?? 200,
      maxFiles: o.maxFiles ?? 20_000,
      maxFileBytes: o.maxFileBytes ?? 1024 * 1024,
    };
    const r = this.opts.searcher
      ? await this.opts.searcher(req, o.signal)
      : searchFiles(req, () => o.signal?.aborted === true);
    if (r.cancelled || o.signal?.aborted)
      throw new PortcullisError("GW_ERR_TIMEOUT", "workspace search was cancelled");
    return { matches: r.matches, filesScanned: r.filesScanned, truncated: r.truncated };
  }
}
