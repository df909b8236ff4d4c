/**
 * TypeScript fallback of the workspace file search: walks the start directory in byte order of
 * names, skips `.git`, symlinks and whatever the .gitignore files from the root down say, scans
 * regular files up to the size limit that are not binary (a NUL in the first 8 KiB), and reports
 * the first match of each line. The Rust twin (native/core/src/workspace/) does the same steps in
 * the same order, so both give the same matches, counts and truncation.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { FileSearchRequest, FileSearchResult, SearchMatch } from "../search-types.js";
import { IgnoreRules } from "./gitignore.js";

const BINARY_SNIFF = 8192;
const MAX_LINE_TEXT = 500;

/** The line cut at 500 UTF-16 units, moving the cut before a high surrogate it would split. */
export function lineText(line: string): string {
  if (line.length <= MAX_LINE_TEXT) return line;
  const c = line.charCodeAt(MAX_LINE_TEXT - 1);
  return line.slice(0, c >= 0xd800 && c <= 0xdbff ? MAX_LINE_TEXT - 1 : MAX_LINE_TEXT);
}

function byName(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function readRules(dir: string): IgnoreRules | undefined {
  try {
    return new IgnoreRules(readFileSync(join(dir, ".gitignore"), "utf8"));
  } catch {
    return undefined;
  }
}

/** Runs a search; `isCancelled` is polled between entries. */
export function searchFiles(
  req: FileSearchRequest,
  isCancelled: () => boolean = () => false,
): FileSearchResult {
  const re = new RegExp(req.pattern, req.caseInsensitive ? "iu" : "u");
  const matches: SearchMatch[] = [];
  let filesScanned = 0;
  let truncated = false;
  let cancelled = false;
  const display = (abs: string): string => {
    const rel = relative(req.root, abs).split(sep).join("/");
    return req.prefixRoot ? `${req.root}${rel ? `/${rel}` : ""}` : rel || ".";
  };
  const stack: { dir: string; rules: IgnoreRules }[] = [];
  const ignored = (full: string, isDir: boolean): boolean => {
    let verdict = false;
    for (const { dir, rules } of stack) {
      const m = rules.match(relative(dir, full).split(sep).join("/"), isDir);
      if (m !== undefined) verdict = m;
    }
    return verdict;
  };
  const scanFile = (full: string, size: number): void => {
    filesScanned++;
    if (size > req.maxFileBytes) return;
    let buf: Buffer;
    try {
      buf = readFileSync(full);
    } catch {
      return;
    }
    if (buf.subarray(0, BINARY_SNIFF).includes(0)) return;
    const lines = buf.toString("utf8").split("\n");
    for (let i = 0; i < lines.length && matches.length < req.maxResults; i++) {
      const line = lines[i] as string;
      const m = re.exec(line);
      if (m) matches.push({ path: display(full), line: i + 1, column: m.index + 1, text: lineText(line) });
    }
    if (matches.length >= req.maxResults) truncated = true;
  };
  const walk = (dir: string): void => {
    const rules = readRules(dir);
    if (rules) stack.push({ dir, rules });
    let names: string[] = [];
    try {
      names = readdirSync(dir).sort(byName);
    } catch {
      // unreadable directories are skipped
    }
    for (const name of names) {
      if (truncated) break;
      if (isCancelled()) {
        cancelled = true;
        break;
      }
      if (name === ".git") continue;
      const full = join(dir, name);
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(full);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (!ignored(full, true)) walk(full);
      } else if (st.isFile() && !ignored(full, false)) {
        if (filesScanned >= req.maxFiles) {
          truncated = true;
          break;
        }
        scanFile(full, st.size);
      }
      if (cancelled) break;
    }
    if (rules) stack.pop();
  };
  let st: ReturnType<typeof lstatSync> | undefined;
  try {
    st = lstatSync(req.start);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) {
    // The .gitignore files of the directories above the start apply too.
    const rel = relative(req.root, req.start);
    let dir = req.root;
    for (const part of rel === "" ? [] : rel.split(sep)) {
      const rules = readRules(dir);
      if (rules) stack.push({ dir, rules });
      dir = join(dir, part);
    }
    walk(req.start);
  } else if (st?.isFile()) scanFile(req.start, st.size);
  return { matches, filesScanned, truncated, cancelled };
}
