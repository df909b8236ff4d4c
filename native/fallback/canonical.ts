/**
 * TypeScript fallback of RFC 8785 (JSON Canonicalization Scheme): object members sorted by
 * UTF-16 code units, numbers in ECMAScript shortest form, strings with the minimal escapes.
 * The Rust core implements the same scheme; conformance/native/ proves byte equality.
 */
import { hash } from "node:crypto";

function serializeNumber(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`canonical JSON cannot represent ${n}`);
  // ECMAScript Number::toString is the JCS number form; -0 serialises as 0.
  return Object.is(n, -0) ? "0" : String(n);
}

function write(value: unknown, out: string[]): void {
  if (value === null) {
    out.push("null");
    return;
  }
  switch (typeof value) {
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "number":
      out.push(serializeNumber(value));
      return;
    case "bigint":
      out.push(value.toString());
      return;
    case "string":
      out.push(JSON.stringify(value));
      return;
    case "object": {
      if (Array.isArray(value)) {
        out.push("[");
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(",");
          const v = value[i];
          write(v === undefined || typeof v === "function" || typeof v === "symbol" ? null : v, out);
        }
        out.push("]");
        return;
      }
      const obj = value as Record<string, unknown> & { toJSON?: () => unknown };
      if (typeof obj.toJSON === "function") {
        write(obj.toJSON(), out);
        return;
      }
      // Default sort compares UTF-16 code units, exactly what RFC 8785 prescribes.
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined && typeof obj[k] !== "function" && typeof obj[k] !== "symbol")
        .sort();
      out.push("{");
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (i > 0) out.push(",");
        out.push(JSON.stringify(k), ":");
        write(obj[k], out);
      }
      out.push("}");
      return;
    }
    default:
      throw new TypeError(`canonical JSON cannot represent a ${typeof value}`);
  }
}

/**
 * Whether `JSON.stringify(value)` lists every object's members in RFC 8785 order: at every level
 * the enumerable keys ascend by UTF-16 code units (so V8's integer-keys-first order agrees too) and
 * no object has a `toJSON`. For such a value the JSON.stringify text is the canonical text, except
 * that JSON.stringify writes a non-finite number as `null` (callers check texts containing `null`).
 * The pipeline builds its records in this order, so their canonical JSON costs one JSON.stringify.
 */
export function isCanonicallyOrdered(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isCanonicallyOrdered(value[i])) return false;
    return true;
  }
  // for-in visits own keys in [[OwnPropertyKeys]] order (what JSON.stringify writes), then any
  // inherited enumerable ones: ascending over that superset implies ascending over the own keys.
  let prev: string | undefined;
  for (const key in value) {
    if (prev !== undefined && !(prev < key)) return false;
    prev = key;
    if (!isCanonicallyOrdered((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** What `canonicalShape` answers for a value only the full writer (or the Rust core) handles. */
const UNSUITED: unique symbol = Symbol("unsuited");
/** Objects and arrays `canonicalShape` may still visit in the current walk. */
let shapeBudget = 0;
/** Whether the current walk may answer with a sorted copy (else an out-of-order object is UNSUITED). */
let shapeMayCopy = true;

/**
 * The value itself where JSON.stringify already writes it canonically, else a copy whose objects
 * have their members re-inserted in sorted order; UNSUITED where JSON.stringify and RFC 8785 may
 * disagree (toJSON, objects that are not plain, BigInt, non-finite numbers),
 * where sorted insertion would not give sorted output (V8 lists integer-like keys first, so an
 * object needing a copy may not have a key starting with a digit), or past the node budget.
 * Strings, booleans and members JSON.stringify skips or writes as null pass through: the writer
 * above renders them the same way.
 */
function canonicalShape(v: unknown): unknown {
  if (typeof v !== "object") {
    if (typeof v === "number") return Number.isFinite(v) ? v : UNSUITED;
    return typeof v === "bigint" ? UNSUITED : v;
  }
  if (v === null) return v;
  if (--shapeBudget < 0 || typeof (v as { toJSON?: unknown }).toJSON === "function") return UNSUITED;
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      const shaped = canonicalShape(item);
      if (shaped === UNSUITED) return UNSUITED;
      if (shaped !== item) {
        if (!shapeMayCopy) return UNSUITED;
        copy ??= v.slice();
        copy[i] = shaped;
      }
    }
    return copy ?? v;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return UNSUITED;
  const obj = v as Record<string, unknown>;
  let prev: string | undefined;
  let sorted = true;
  let digitKey = false;
  let shapedMembers: Map<string, unknown> | undefined;
  // for-in lists the own keys in JSON.stringify's order, then inherited enumerable ones: ascending
  // over that superset implies ascending own keys, and a copy takes only the own ones.
  for (const key in obj) {
    if (prev !== undefined && !(prev < key)) sorted = false;
    prev = key;
    const c = key.charCodeAt(0);
    if (c >= 48 && c <= 57) digitKey = true;
    const item = obj[key];
    const shaped = canonicalShape(item);
    if (shaped === UNSUITED) return UNSUITED;
    if (shaped !== item) {
      shapedMembers ??= new Map();
      shapedMembers.set(key, shaped);
    }
  }
  if (sorted && shapedMembers === undefined) return v;
  if (!shapeMayCopy || (!sorted && digitKey)) return UNSUITED;
  const copy: Record<string, unknown> = {};
  for (const key of sorted ? Object.keys(obj) : Object.keys(obj).sort()) {
    const value = shapedMembers?.has(key) ? shapedMembers.get(key) : obj[key];
    if (key === "__proto__") Object.defineProperty(copy, key, { value, enumerable: true, writable: true });
    else copy[key] = value;
  }
  return copy;
}

/**
 * The canonical text by one walk and one JSON.stringify, or undefined when the value has more
 * than `maxNodes` objects and arrays or something only the full writer renders exactly. Small
 * values (a call's arguments, a tool result, an audit record) take this path on both cores.
 */
export function quickCanonical(value: unknown, maxNodes: number, mayCopy = true): string | undefined {
  shapeBudget = maxNodes;
  shapeMayCopy = mayCopy;
  const shaped = canonicalShape(value);
  if (shaped === UNSUITED) return undefined;
  const text = JSON.stringify(shaped) as string | undefined;
  return typeof text === "string" ? text : undefined;
}

/** Objects and arrays up to which `quickCanonical` is faster than the writer or the Rust core. */
export const QUICK_NODES = 256;

/** The canonical text by the member-by-member writer alone (the reference `quickCanonical` is tested against). */
export function writeCanonical(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join("");
}

/**
 * The canonical text where JavaScript alone gets it cheaply: one JSON.stringify of a value already
 * in canonical order (the pipeline's records), else `quickCanonical` within `maxNodes`; undefined
 * otherwise. A `null` in an ordered value's text may be a non-finite number JSON.stringify hid, so
 * such a text is only trusted after `quickCanonical`'s walk. Without `mayCopy`, values that need
 * a sorted copy answer undefined (the addon's Rust core canonicalises those as fast as the copy).
 */
export function jsCanonical(value: unknown, maxNodes: number, mayCopy = true): string | undefined {
  if (isCanonicallyOrdered(value)) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value) as string | undefined;
    } catch {
      return undefined; // BigInt: the writer renders it
    }
    if (typeof text === "string" && !text.includes("null")) return text;
  } else if (!mayCopy) return undefined;
  return quickCanonical(value, maxNodes, mayCopy);
}

/** RFC 8785 canonical JSON text of a JSON-compatible value. */
export function canonicalize(value: unknown): string {
  const quick = jsCanonical(value, QUICK_NODES);
  if (quick !== undefined) return quick;
  const out: string[] = [];
  write(value, out);
  return out.join("");
}

/** Lower-case hex sha256 of a string (UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  // One-shot crypto.hash (node >= 20.12): no Hash object per call.
  return hash("sha256", data, "hex");
}

/** sha256 of the canonical JSON of a value: the digest used for pins, cache keys and the audit chain. */
export function digest(value: unknown): string {
  return sha256Hex(canonicalize(value));
}
