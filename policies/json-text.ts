/**
 * JSON text of policy inputs, byte for byte what `JSON.stringify` writes, but faster for the
 * plain data the gateway builds: on Node 20 every `JSON.stringify` call costs ~50–100 ns before it
 * writes anything, and a whole 531-byte input ~2.4 µs, most of the service's own cost per
 * decision. Strings without characters to escape, finite numbers, booleans, null, arrays and plain
 * objects are written here; anything JSON.stringify treats specially (a `toJSON`, class
 * instances, boxed primitives, bigints, escapes, nesting past `MAX_DIRECT_DEPTH`, cycles) is
 * handed to JSON.stringify itself, so the output and the errors stay exactly its own.
 */

/** Characters JSON.stringify escapes (quote, backslash, controls) or checks (surrogates). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const OBJECT_PROTO = Object.prototype;
const ARRAY_PROTO = Array.prototype;
/** Past this depth the rest of a value goes to JSON.stringify (which also reports cycles). */
export const MAX_DIRECT_DEPTH = 64;

/** A string as a JSON string literal. */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * True when Object.prototype has an enumerable member (a polluted prototype): for-in then shows
 * it in every plain object, and own members must be told apart (~4 ns, where an `Object.hasOwn`
 * per member costs ~10 ns each).
 */
export function prototypeHasEnumerables(): boolean {
  for (const _ in OBJECT_PROTO) return true;
  return false;
}

/** True for objects written member by member: Object.prototype or null prototype, no toJSON. */
export function isPlainRecord(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return (
    (proto === OBJECT_PROTO || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== "function"
  );
}

/**
 * What JSON.stringify writes for `v` as the member `key` of an object or array (a `toJSON` is
 * called with that key): the member written alone, its name and braces cut off.
 */
function viaStringify(v: unknown, key: string | number): string | undefined {
  if (key === "") return JSON.stringify(v);
  const name = String(key);
  const text = JSON.stringify({ [name]: v });
  return text === "{}" ? undefined : text.slice(jsonString(name).length + 2, -1);
}

/**
 * `JSON.stringify(v)`: the same text, the same `undefined` for values JSON has no text for
 * (undefined, functions, symbols), the same errors (bigints, cycles). `key` is the member name
 * or index `v` is written under (what a `toJSON` receives).
 */
export function jsonText(v: unknown, depth = 0, key: string | number = ""): string | undefined {
  switch (typeof v) {
    case "string":
      return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
    case "number":
      // Number-to-string is what JSON.stringify writes for finite numbers (-0 included: "0").
      return Number.isFinite(v) ? `${v}` : "null";
    case "boolean":
      return v ? "true" : "false";
    case "object": {
      if (v === null) return "null";
      if (depth >= MAX_DIRECT_DEPTH) return viaStringify(v, key);
      if (Array.isArray(v)) {
        if (
          Object.getPrototypeOf(v) !== ARRAY_PROTO ||
          typeof (v as { toJSON?: unknown }).toJSON === "function"
        )
          return viaStringify(v, key);
        let out = "[";
        for (let i = 0; i < v.length; i++) {
          if (i > 0) out += ",";
          out += jsonText(v[i], depth + 1, i) ?? "null";
        }
        return `${out}]`;
      }
      if (!isPlainRecord(v)) return viaStringify(v, key);
      let out = "{";
      const checkOwn = prototypeHasEnumerables();
      for (const k in v) {
        if (checkOwn && !Object.hasOwn(v, k)) continue;
        const text = jsonText(v[k], depth + 1, k);
        if (text === undefined) continue;
        out += out.length === 1 ? `${jsonString(k)}:${text}` : `,${jsonString(k)}:${text}`;
      }
      return `${out}}`;
    }
    default:
      // undefined, functions and symbols have no text; a bigint makes JSON.stringify throw (or
      // calls a BigInt.prototype.toJSON someone installed).
      return viaStringify(v, key);
  }
}
