/**
 * TypeScript fallback of RFC 8785 (JSON Canonicalization Scheme): object members sorted by
 * UTF-16 code units, numbers in ECMAScript shortest form, strings with the minimal escapes.
 * The Rust core implements the same scheme; conformance/native/ proves byte equality.
 */
import { createHash } from "node:crypto";

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

/** RFC 8785 canonical JSON text of a JSON-compatible value. */
export function canonicalize(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join("");
}

/** Lower-case hex sha256 of a string (UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256 of the canonical JSON of a value: the digest used for pins, cache keys and the audit chain. */
export function digest(value: unknown): string {
  return sha256Hex(canonicalize(value));
}
