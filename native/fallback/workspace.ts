/**
 * Workspace capability: list, read and search files inside configured roots. Every path is
 * canonicalised (realpath) and must stay inside a root: `..`, absolute paths elsewhere, symlinks
 * out of the root, symlink loops and Unicode look-alikes of `/` and `.` are refused with
 * GW_ERR_PATH_ESCAPE. Search honours .gitignore files, skips .git, binary files and symlinks,
 * and stops at its limits.
 */
import {
  closeSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { PortcullisError } from "../../gateway/errors.js";
import { IgnoreRules } from "./gitignore.js";

export interface WorkspaceOptions {
  maxReadBytes: number;
}

export interface ListEntry {
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  size?: number;
}

export interface ReadResult {
  path: string;
  size: number;
  offset: number;
  bytes: number;
  truncated: boolean;
  binary: boolean;
  text?: string;
}

export interface SearchMatch {
  path: string;
  line: number;
  column: number;
  text: string;
}

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
const BINARY_SNIFF = 8192;

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

function isBinary(buf: Uint8Array): boolean {
  return buf.subarray(0, BINARY_SNIFF).includes(0);
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

  private display(root: string, abs: string): string {
    const rel = relative(root, abs).split(sep).join("/");
    return this.roots.length > 1 ? `${root}${rel ? `/${rel}` : ""}` : rel || ".";
  }

  /** Entries of a directory (sorted by name), optionally recursive up to a depth. */
  list(path = ".", depth = 1, limit = 1000): { entries: ListEntry[]; truncated: boolean } {
    const { abs, root } = this.resolvePath(path);
    if (!statSync(abs).isDirectory()) throw new PortcullisError("GW_ERR_USAGE", `${path} is not a directory`);
    const entries: ListEntry[] = [];
    let truncated = false;
    const walk = (dir: string, level: number): void => {
      const names = readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const name of names) {
        if (entries.length >= limit) {
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
        entries.push(
          type === "file"
            ? { path: this.display(root, full), type, size: st.size }
            : { path: this.display(root, full), type },
        );
        if (type === "dir" && level < depth && name !== ".git") walk(full, level + 1);
      }
    };
    walk(abs, 1);
    return { entries, truncated };
  }

  /** Reads a byte range of a file, capped at maxReadBytes; binary files return no text. */
  read(path: string, offset = 0, length?: number): ReadResult {
    const { abs, root } = this.resolvePath(path);
    const st = statSync(abs);
    if (!st.isFile()) throw new PortcullisError("GW_ERR_USAGE", `${path} is not a regular file`);
    if (!Number.isInteger(offset) || offset < 0)
      throw new PortcullisError("GW_ERR_USAGE", "offset must be >= 0");
    const want = Math.min(length ?? this.opts.maxReadBytes, this.opts.maxReadBytes);
    const bytes = Math.max(0, Math.min(want, st.size - offset));
    const buf = Buffer.alloc(bytes);
    const fd = openSync(abs, "r");
    try {
      readSync(fd, buf, 0, bytes, offset);
    } finally {
      closeSync(fd);
    }
    const sniff = Buffer.alloc(Math.min(BINARY_SNIFF, st.size));
    const fd2 = openSync(abs, "r");
    try {
      readSync(fd2, sniff, 0, sniff.length, 0);
    } finally {
      closeSync(fd2);
    }
    const binary = isBinary(sniff);
    const base = {
      path: this.display(root, abs),
      size: st.size,
      offset,
      bytes,
      truncated: offset + bytes < st.size,
      binary,
    };
    return binary ? base : { ...base, text: buf.toString("utf8") };
  }

  /** Regex search over the files under a path, honouring .gitignore. */
  search(o: SearchOptions): { matches: SearchMatch[]; filesScanned: number; truncated: boolean } {
    if (o.pattern.length === 0 || o.pattern.length > 1000)
      throw new PortcullisError("GW_ERR_USAGE", "pattern must be 1..1000 characters");
    let re: RegExp;
    try {
      re = new RegExp(o.pattern, o.caseInsensitive ? "i" : "");
    } catch (e) {
      throw new PortcullisError("GW_ERR_USAGE", `invalid pattern: ${(e as Error).message}`);
    }
    const maxResults = o.maxResults ?? 200;
    const maxFiles = o.maxFiles ?? 20_000;
    const maxFileBytes = o.maxFileBytes ?? 1024 * 1024;
    const { abs, root } = this.resolvePath(o.path ?? ".");
    const matches: SearchMatch[] = [];
    let filesScanned = 0;
    let truncated = false;
    const stack: { dir: string; rules: IgnoreRules }[] = [];
    const ignored = (full: string, isDir: boolean): boolean => {
      let verdict = false;
      for (const { dir, rules } of stack) {
        const rel = relative(dir, full).split(sep).join("/");
        const m = rules.match(rel, isDir);
        if (m !== undefined) verdict = m;
      }
      return verdict;
    };
    const scanFile = (full: string): void => {
      filesScanned++;
      const st = statSync(full);
      if (st.size > maxFileBytes) return;
      const buf = readFileSync(full);
      if (isBinary(buf)) return;
      const lines = buf.toString("utf8").split("\n");
      for (let i = 0; i < lines.length && matches.length < maxResults; i++) {
        const line = lines[i] as string;
        const m = re.exec(line);
        if (m)
          matches.push({
            path: this.display(root, full),
            line: i + 1,
            column: m.index + 1,
            text: line.slice(0, 500),
          });
      }
      if (matches.length >= maxResults) truncated = true;
    };
    const walk = (dir: string): void => {
      let pushed = false;
      try {
        const text = readFileSync(join(dir, ".gitignore"), "utf8");
        stack.push({ dir, rules: new IgnoreRules(text) });
        pushed = true;
      } catch {
        // no .gitignore here
      }
      const names = readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const name of names) {
        if (truncated || o.signal?.aborted) break;
        if (name === ".git") continue;
        const full = join(dir, name);
        const st = lstatSync(full);
        if (st.isSymbolicLink()) continue;
        if (st.isDirectory()) {
          if (!ignored(full, true)) walk(full);
        } else if (st.isFile() && !ignored(full, false)) {
          if (filesScanned >= maxFiles) {
            truncated = true;
            break;
          }
          scanFile(full);
        }
      }
      if (pushed) stack.pop();
    };
    if (statSync(abs).isDirectory()) walk(abs);
    else scanFile(abs);
    if (o.signal?.aborted) throw new PortcullisError("GW_ERR_TIMEOUT", "workspace search was cancelled");
    return { matches, filesScanned, truncated };
  }
}
