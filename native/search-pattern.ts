/**
 * Translates an ECMAScript RegExp source (`u` flag, already validated by `new RegExp`) into the
 * Rust regex crate's syntax with the same meaning for the per-line search: ASCII `\d \w \b`,
 * ECMAScript's `\s` set, `.` excluding line terminators, literals as code-point escapes, classes
 * rebuilt item by item (so Rust's class operators `&& -- ~~` and nested `[` never apply). What has
 * no exact Rust counterpart — lookaround, backreferences, `\p{...}`, `\D \W \S` inside classes,
 * `\w \b` under `i` (ECMAScript folds ſ and K into them) — yields undefined, and the caller runs
 * the TypeScript search instead, so results never differ between the cores.
 */

const JS_SPACE = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
] as const;
const DIGIT = [[0x30, 0x39]] as const;
const WORD = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
] as const;

type Ranges = readonly (readonly [number, number])[];

class Unsupported extends Error {}

const hex = (c: number) => `\\x{${c.toString(16)}}`;
const lit = (c: number) => (/^[A-Za-z0-9]$/.test(String.fromCodePoint(c)) ? String.fromCodePoint(c) : hex(c));
const rangesBody = (r: Ranges) => r.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join("");

/** Rust syntax for the pattern, or undefined when only the ECMAScript engine can run it. */
export function toRustPattern(source: string, caseInsensitive: boolean): string | undefined {
  try {
    return (
      (caseInsensitive ? "(?i)" : "") +
      translate(
        Array.from(source, (c) => c.codePointAt(0) as number),
        caseInsensitive,
      )
    );
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

function translate(p: number[], ci: boolean): string {
  let out = "";
  let i = 0;
  const ch = (k: number) => (k < p.length ? String.fromCodePoint(p[k] as number) : "");
  /** Reads an escape at p[i] (after the backslash); returns a code point or a class. */
  const readEscape = (inClass: boolean): number | Ranges | string => {
    const c = ch(i++);
    switch (c) {
      case "d":
        return DIGIT;
      case "w":
        if (ci) throw new Unsupported();
        return WORD;
      case "s":
        return JS_SPACE;
      case "D":
      case "W":
      case "S":
        if (inClass || (ci && c === "W")) throw new Unsupported();
        return `[^${rangesBody(c === "D" ? DIGIT : c === "W" ? WORD : JS_SPACE)}]`;
      case "b":
        if (inClass) return 0x08;
        if (ci) throw new Unsupported();
        return "(?-u:\\b)";
      case "B":
        if (inClass || ci) throw new Unsupported();
        return "(?-u:\\B)";
      case "t":
        return 0x09;
      case "n":
        return 0x0a;
      case "v":
        return 0x0b;
      case "f":
        return 0x0c;
      case "r":
        return 0x0d;
      case "0":
        return 0;
      case "c": {
        const x = p[i++] as number;
        return x % 32;
      }
      case "x": {
        const v = Number.parseInt(ch(i) + ch(i + 1), 16);
        i += 2;
        return v;
      }
      case "u": {
        let v: number;
        if (ch(i) === "{") {
          const close = p.indexOf(0x7d, i);
          v = Number.parseInt(String.fromCodePoint(...p.slice(i + 1, close)), 16);
          i = close + 1;
        } else {
          v = Number.parseInt(String.fromCodePoint(...p.slice(i, i + 4)), 16);
          i += 4;
          if (v >= 0xd800 && v <= 0xdbff && ch(i) === "\\" && ch(i + 1) === "u") {
            const lo = Number.parseInt(String.fromCodePoint(...p.slice(i + 2, i + 6)), 16);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              i += 6;
              v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
            }
          }
        }
        if (v >= 0xd800 && v <= 0xdfff) throw new Unsupported();
        return v;
      }
      default:
        // Backreferences, \k<name>, \p{...} and \P{...} have no exact counterpart.
        if (/^[1-9kpP]$/.test(c)) throw new Unsupported();
        return c.codePointAt(0) as number;
    }
  };
  const classItem = (): number | Ranges => {
    if (p[i] === 0x5c) {
      i++;
      const e = readEscape(true);
      if (typeof e === "string") throw new Unsupported();
      return e;
    }
    return p[i++] as number;
  };
  while (i < p.length) {
    const c = ch(i);
    if (c === "\\") {
      i++;
      const e = readEscape(false);
      out += typeof e === "number" ? lit(e) : typeof e === "string" ? e : `[${rangesBody(e)}]`;
    } else if (c === "[") {
      i++;
      const negate = ch(i) === "^";
      if (negate) i++;
      const ranges: [number, number][] = [];
      while (i < p.length && ch(i) !== "]") {
        const a = classItem();
        if (typeof a !== "number") {
          ranges.push(...a.map(([x, y]) => [x, y] as [number, number]));
          continue;
        }
        if (ch(i) === "-" && i + 1 < p.length && ch(i + 1) !== "]") {
          i++;
          const b = classItem();
          if (typeof b !== "number") throw new Unsupported();
          ranges.push([a, b]);
        } else ranges.push([a, a]);
      }
      i++;
      if (ranges.length === 0) {
        if (!negate) throw new Unsupported();
        out += "[\\x{0}-\\x{10ffff}]";
      } else out += `[${negate ? "^" : ""}${rangesBody(ranges)}]`;
    } else if (c === "(") {
      i++;
      if (ch(i) === "?") {
        if (ch(i + 1) === ":") {
          out += "(?:";
          i += 2;
        } else if (ch(i + 1) === "<" && ch(i + 2) !== "=" && ch(i + 2) !== "!") {
          // A named group without backreferences is a plain group.
          i = p.indexOf(0x3e, i) + 1;
          out += "(";
        } else throw new Unsupported();
      } else out += "(";
    } else if (c === ".") {
      i++;
      out += "[^\\x{a}\\x{d}\\x{2028}\\x{2029}]";
    } else if ("^$|)*+?".includes(c)) {
      i++;
      out += c;
    } else if (c === "{") {
      const close = p.indexOf(0x7d, i);
      out += String.fromCodePoint(...p.slice(i, close + 1));
      i = close + 1;
    } else {
      i++;
      out += lit(c.codePointAt(0) as number);
    }
  }
  return out;
}
