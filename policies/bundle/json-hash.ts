/**
 * The file hashes of OPA's bundle signatures. Raw files hash their bytes. Structured files (JSON
 * such as `data.json` and `.manifest`, YAML data) hash a canonical text that OPA's Go hasher
 * produces: objects with keys in byte order, no whitespace, strings encoded the way Go's JSON
 * encoder does with HTML escaping off, and numbers exactly as written in the file (OPA decodes
 * them as `json.Number`, so `1.50` stays `1.50`). A tiny parser keeps those literals, which
 * `JSON.parse` would lose. Verified against signatures made by the pinned `opa` in the tests.
 */
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { PortcullisError } from "../../gateway/errors.js";

/** Hash algorithms accepted in a signature's file list (weaker ones OPA allows are refused). */
export type FileHashAlgorithm = "SHA-256" | "SHA-384" | "SHA-512";

const NODE_HASH: Record<FileHashAlgorithm, string> = {
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

export function isFileHashAlgorithm(v: unknown): v is FileHashAlgorithm {
  return v === "SHA-256" || v === "SHA-384" || v === "SHA-512";
}

const MAX_DEPTH = 512;

function hashError(message: string): PortcullisError {
  return new PortcullisError("GW_ERR_BUNDLE", message, { details: { reason: "bad_structured_file" } });
}

/** Go's JSON string encoding with HTML escaping off: JSON.stringify plus U+2028/U+2029 escapes. */
function goString(s: string): string {
  const wellFormed = s.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    "\ufffd",
  );
  return JSON.stringify(wellFormed).replace(/[\u2028\u2029]/g, (c) =>
    c === "\u2028" ? "\\u2028" : "\\u2029",
  );
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Canonical text of JSON source, keeping number literals; throws on malformed JSON. */
export function canonicalJsonText(text: string): string {
  let at = 0;
  const ws = () => {
    while (at < text.length && " \t\n\r".includes(text[at] as string)) at++;
  };
  const fail = (what: string): never => {
    throw hashError(`malformed JSON at offset ${at}: ${what}`);
  };
  const str = (): string => {
    const m = /^"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/.exec(text.slice(at));
    if (!m) return fail("bad string");
    at += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const value = (depth: number): string => {
    if (depth > MAX_DEPTH) fail("nesting too deep");
    ws();
    const c = text[at];
    if (c === "{") {
      at++;
      const members = new Map<string, string>();
      ws();
      if (text[at] === "}") {
        at++;
        return "{}";
      }
      for (;;) {
        ws();
        if (text[at] !== '"') fail("expected a key");
        const key = str();
        ws();
        if (text[at++] !== ":") fail("expected ':'");
        members.set(key, value(depth + 1)); // Go maps keep the last duplicate, so does this
        ws();
        const sep = text[at++];
        if (sep === "}") break;
        if (sep !== ",") fail("expected ',' or '}'");
      }
      const keys = [...members.keys()].sort(byteOrder);
      return `{${keys.map((k) => `${goString(k)}:${members.get(k)}`).join(",")}}`;
    }
    if (c === "[") {
      at++;
      const items: string[] = [];
      ws();
      if (text[at] === "]") {
        at++;
        return "[]";
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        const sep = text[at++];
        if (sep === "]") break;
        if (sep !== ",") fail("expected ',' or ']'");
      }
      return `[${items.join(",")}]`;
    }
    if (c === '"') return goString(str());
    const lit = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(
      text.slice(at, at + 512),
    );
    if (!lit) return fail("unexpected token");
    at += lit[0].length;
    return lit[0];
  };
  const out = value(0);
  ws();
  if (at !== text.length) fail("trailing characters");
  return out;
}

/** Canonical text of a plain JS value (YAML data): same rules, numbers as JS prints them. */
function canonicalValueText(v: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) throw hashError("structured file nests too deep");
  if (v === null || typeof v === "boolean") return String(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw hashError("structured file holds a non-finite number");
    return JSON.stringify(v);
  }
  if (typeof v === "string") return goString(v);
  if (Array.isArray(v)) return `[${v.map((x) => canonicalValueText(x, depth + 1)).join(",")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort(byteOrder);
    return `{${keys.map((k) => `${goString(k)}:${canonicalValueText(o[k], depth + 1)}`).join(",")}}`;
  }
  throw hashError(`structured file holds a ${typeof v}`);
}

/** Whether OPA hashes this bundle file as structured data rather than bytes. */
export function isStructuredFile(name: string): boolean {
  const base = name.slice(name.lastIndexOf("/") + 1);
  return base === ".manifest" || base.endsWith(".json") || base.endsWith(".yaml") || base.endsWith(".yml");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Hex digest of one bundle file as OPA's signatures list it. */
export function bundleFileHash(name: string, bytes: Uint8Array, alg: FileHashAlgorithm = "SHA-256"): string {
  const h = createHash(NODE_HASH[alg]);
  if (!isStructuredFile(name)) return h.update(bytes).digest("hex");
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw hashError(`${name} is not UTF-8`);
  }
  if (name.endsWith(".yaml") || name.endsWith(".yml")) {
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (e) {
      throw hashError(`${name} is not valid YAML: ${(e as Error).message}`);
    }
    return h.update(canonicalValueText(value)).digest("hex");
  }
  try {
    return h.update(canonicalJsonText(text)).digest("hex");
  } catch (e) {
    throw e instanceof PortcullisError ? hashError(`${name}: ${e.message}`) : e;
  }
}
