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

/** RFC 8785 canonical JSON text of a JSON-compatible value. */
export function canonicalize(value: unknown): string {
  if (isCanonicallyOrdered(value)) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value) as string | undefined;
    } catch {
      text = undefined; // BigInt: the writer below renders it
    }
    // A `null` in the text may be a non-finite number JSON.stringify hid: the writer refuses those.
    if (typeof text === "string" && !text.includes("null")) return text;
  }
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
