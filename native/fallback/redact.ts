/**
 * TypeScript fallback of redaction (native/core/src/redact.rs): rewrites the strings of a JSON
 * value so that findings of the chosen data classes disappear — `mask` → `[REDACTED:<class>]`,
 * `hash` → `[<class>:<16 hex>]` (sha256, or HMAC-SHA256 with a key), `drop` → the string's
 * member is removed (array elements and the top level become null), `reversible` → numbered
 * placeholders `[<CLASS>_<n>]` with a mapping that `restoreValue` / `restoreText` apply later.
 * Values are walked with JSON semantics, as the addon sees them after JSON.stringify.
 */
import { createHash, createHmac } from "node:crypto";
import type { Finding, Redaction, RedactOptions } from "../sanitizer-types.js";
import { memberPath, scanText } from "./sanitizer.js";
import { utf16Indices } from "./utf8.js";

const ACTIONS = new Set(["mask", "hash", "drop", "reversible"]);

/** Throws a TypeError for options the native core would also refuse. */
export function checkRedactOptions(opts: RedactOptions): void {
  if (opts === null || typeof opts !== "object" || !ACTIONS.has(opts.action)) {
    throw new TypeError(`invalid redaction options: action must be one of ${[...ACTIONS].join(", ")}`);
  }
  if (opts.classes !== undefined && !(Array.isArray(opts.classes) && opts.classes.every(isString))) {
    throw new TypeError("invalid redaction options: classes must be a list of strings");
  }
  if (opts.key !== undefined && typeof opts.key !== "string") {
    throw new TypeError("invalid redaction options: key must be a string");
  }
}

function isString(x: unknown): x is string {
  return typeof x === "string";
}

class Redactor {
  readonly findings: Finding[] = [];
  readonly mapping: Record<string, string> = {};
  private readonly seen = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  private readonly wanted: ((cls: string) => boolean) | undefined;

  constructor(private readonly opts: RedactOptions) {
    const classes = opts.classes;
    this.wanted = classes && classes.length > 0 ? (c) => classes.includes(c) : undefined;
  }

  private placeholder(cls: string, original: string): string {
    const key = `${cls}\u0000${original}`;
    const known = this.seen.get(key);
    if (known !== undefined) return known;
    const n = (this.counters.get(cls) ?? 0) + 1;
    this.counters.set(cls, n);
    const p = `[${asciiUpper(cls)}_${n}]`;
    this.seen.set(key, p);
    this.mapping[p] = original;
    return p;
  }

  private replacement(cls: string, span: string): string {
    switch (this.opts.action) {
      case "mask":
        return `[REDACTED:${cls}]`;
      case "hash": {
        const h = this.opts.key === undefined ? createHash("sha256") : createHmac("sha256", this.opts.key);
        return `[${cls}:${h.update(span, "utf8").digest("hex").slice(0, 16)}]`;
      }
      case "reversible":
        return this.placeholder(cls, span);
      case "drop":
        return "";
    }
  }

  /** The redacted string, or undefined when it must be dropped. */
  string(s: string, path: string): string | undefined {
    const found = scanText(s).filter((f) => this.wanted === undefined || this.wanted(f.class));
    if (found.length === 0) return s;
    const idx = utf16Indices(
      s,
      found.flatMap((f) => [f.start, f.end]),
    );
    let out = "";
    let at = 0;
    found.forEach((f, n) => {
      const start = idx[2 * n] as number;
      const end = idx[2 * n + 1] as number;
      out += s.slice(at, start) + this.replacement(f.class, s.slice(start, end));
      at = end;
      this.findings.push({ ...f, path });
    });
    out += s.slice(at);
    return this.opts.action === "drop" ? undefined : out;
  }

  /** JSON semantics: undefined means "omit" (members) or null (elements, top level). */
  walk(v: unknown, path: string): unknown {
    if (v !== null && typeof v === "object" && typeof (v as { toJSON?: unknown }).toJSON === "function") {
      v = (v as { toJSON: () => unknown }).toJSON();
    }
    if (typeof v === "string") return this.string(v, path);
    if (v === undefined || typeof v === "function" || typeof v === "symbol") return undefined;
    if (Array.isArray(v)) return v.map((item, i) => this.walk(item, `${path}[${i}]`) ?? null);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        const r = this.walk(item, memberPath(path, k));
        if (r !== undefined)
          Object.defineProperty(out, k, { value: r, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    if (typeof v === "number" && !Number.isFinite(v)) return null;
    return v;
  }
}

function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** Redacts the findings of the chosen classes out of every string of a JSON value. */
export function redactValue(value: unknown, opts: RedactOptions): Redaction {
  checkRedactOptions(opts);
  const r = new Redactor(opts);
  const out = r.walk(value, "$") ?? null;
  return opts.action === "reversible"
    ? { value: out, findings: r.findings, mapping: r.mapping }
    : { value: out, findings: r.findings };
}

/** Puts the originals back into a text: each known `[CLASS_n]` placeholder, left to right. */
export function restoreText(text: string, mapping: Readonly<Record<string, string>>): string {
  let out = "";
  let rest = text;
  for (let open = rest.indexOf("["); open >= 0; open = rest.indexOf("[")) {
    out += rest.slice(0, open);
    const tail = rest.slice(open);
    const close = tail.indexOf("]");
    const key = close >= 0 ? tail.slice(0, close + 1) : undefined;
    const orig = key !== undefined && Object.hasOwn(mapping, key) ? mapping[key] : undefined;
    if (orig !== undefined) {
      out += orig;
      rest = tail.slice(close + 1);
    } else {
      out += "[";
      rest = tail.slice(1);
    }
  }
  return out + rest;
}

/** Puts the originals back into every string of a value redacted with `reversible`. */
export function restoreValue(value: unknown, mapping: Readonly<Record<string, string>>): unknown {
  if (typeof value === "string") return restoreText(value, mapping);
  if (Array.isArray(value)) return value.map((v) => restoreValue(v, mapping));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      Object.defineProperty(out, k, {
        value: restoreValue(v, mapping),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
