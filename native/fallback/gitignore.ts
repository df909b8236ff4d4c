/**
 * A .gitignore matcher (gitignore(5)): per-directory rule files, `*`, `**`, `?`, `[...]` (`!` or
 * `^` negates), `\` escapes, `!` negation, leading or inner `/` anchoring, trailing `/` for
 * directories, last matching rule wins. Globs are matched by a small dynamic programme over code
 * points, not by translating to a regex, so the Rust twin (native/core/src/workspace/gitignore.rs)
 * can follow it step for step. Wildcards and classes never match `/`.
 */

type Token =
  | { t: "lit"; c: number }
  | { t: "any" }
  | { t: "star" }
  | { t: "globstar" }
  | { t: "dirs" }
  | { t: "class"; negate: boolean; ranges: [number, number][] };

interface Rule {
  tokens: Token[];
  negate: boolean;
  dirOnly: boolean;
}

const SLASH = 0x2f;

function compile(glob: number[], anchored: boolean): Token[] {
  const out: Token[] = anchored ? [] : [{ t: "dirs" }];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as number;
    if (c === 0x2a /* * */) {
      if (glob[i + 1] === 0x2a) {
        const slashAfter = glob[i + 2] === SLASH;
        out.push({ t: slashAfter ? "dirs" : "globstar" });
        i += slashAfter ? 2 : 1;
      } else out.push({ t: "star" });
    } else if (c === 0x3f /* ? */) out.push({ t: "any" });
    else if (c === 0x5b /* [ */) {
      const close = glob.indexOf(0x5d, i + 1);
      if (close < 0) out.push({ t: "lit", c });
      else {
        let body = glob.slice(i + 1, close);
        const negate = body[0] === 0x21 || body[0] === 0x5e;
        if (negate) body = body.slice(1);
        const ranges: [number, number][] = [];
        for (let j = 0; j < body.length; j++) {
          const a = body[j] as number;
          const b = body[j + 2];
          if (body[j + 1] === 0x2d && b !== undefined) {
            ranges.push([a, b]);
            j += 2;
          } else ranges.push([a, a]);
        }
        out.push({ t: "class", negate, ranges });
        i = close;
      }
    } else if (c === 0x5c /* \ */ && i + 1 < glob.length) out.push({ t: "lit", c: glob[++i] as number });
    else out.push({ t: "lit", c });
  }
  return out;
}

function one(tok: Token, c: number): boolean {
  switch (tok.t) {
    case "lit":
      return tok.c === c;
    case "any":
      return c !== SLASH;
    case "class":
      return c !== SLASH && tok.ranges.some(([a, b]) => a <= c && c <= b) !== tok.negate;
    default:
      return false;
  }
}

/** Whether the tokens match the whole path (code points). */
function matches(tokens: Token[], path: number[]): boolean {
  const n = path.length;
  let dp: boolean[] = new Array(n + 1).fill(false);
  dp[0] = true;
  for (const tok of tokens) {
    const next: boolean[] = new Array(n + 1).fill(false);
    if (tok.t === "star" || tok.t === "globstar") {
      for (let j = 0; j <= n; j++) {
        next[j] =
          (dp[j] as boolean) ||
          (j > 0 && (next[j - 1] as boolean) && (tok.t === "globstar" || path[j - 1] !== SLASH));
      }
    } else if (tok.t === "dirs") {
      let seen = false;
      for (let j = 0; j <= n; j++) {
        next[j] = (dp[j] as boolean) || (j > 0 && seen && path[j - 1] === SLASH);
        if (dp[j]) seen = true;
      }
    } else {
      for (let j = 0; j < n; j++) next[j + 1] = (dp[j] as boolean) && one(tok, path[j] as number);
    }
    dp = next;
  }
  return dp[n] as boolean;
}

function codePoints(s: string): number[] {
  return Array.from(s, (ch) => ch.codePointAt(0) as number);
}

/** Strips trailing spaces and tabs, keeping one that a backslash escapes. */
function trimTrailing(line: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === " " || line[end - 1] === "\t")) end--;
  if (end < line.length && end > 0 && line[end - 1] === "\\") end++;
  return line.slice(0, end);
}

/** Rules of one .gitignore file, matched against paths relative to its directory. */
export class IgnoreRules {
  private readonly rules: Rule[] = [];

  constructor(text: string) {
    for (const raw of text.split("\n")) {
      let line = trimTrailing(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
      if (line === "" || line.startsWith("#")) continue;
      let negate = false;
      if (line.startsWith("!")) {
        negate = true;
        line = line.slice(1);
      }
      const dirOnly = line.endsWith("/");
      if (dirOnly) line = line.slice(0, -1);
      const anchored = line.includes("/");
      if (line.startsWith("/")) line = line.slice(1);
      if (line === "") continue;
      this.rules.push({ tokens: compile(codePoints(line), anchored), negate, dirOnly });
    }
  }

  /** true: ignored, false: re-included, undefined: no rule matched. */
  match(relPath: string, isDir: boolean): boolean | undefined {
    const path = codePoints(relPath);
    let result: boolean | undefined;
    for (const r of this.rules) {
      if (r.dirOnly && !isDir) continue;
      if (matches(r.tokens, path)) result = !r.negate;
    }
    return result;
  }
}
