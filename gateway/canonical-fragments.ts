/**
 * Canonical JSON (RFC 8785) of the objects a call's records share, computed once. The principal
 * and the policy target of a call appear in the context hash, the decision record and the outcome
 * record, and are the same for every call of a caller to a tool. Their producers (the
 * authenticator, the resolve stage, the decision cache) `intern` them: the value is deep-frozen
 * and its canonical text remembered. `memberText` then builds the canonical text of an object
 * whose members ascend (the records, the context-hash document) from its members' texts, reusing
 * an interned member's text instead of serialising it again. The result is byte-identical to
 * `canonicalize` of the same object (tested against it).
 */
import { canonicalize } from "../native/index.js";

const texts = new WeakMap<object, string>();

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
}

/**
 * Deep-freezes `value` and remembers its canonical text (a frozen value cannot drift from it).
 * Returns the value itself. A value that has no canonical text (a non-finite number, say) is
 * frozen but not remembered: its members are then canonicalised where it is used, which reports
 * the problem there.
 */
export function intern<T extends object>(value: T): T {
  if (texts.has(value)) return value;
  deepFreeze(value);
  try {
    texts.set(value, canonicalize(value));
  } catch {
    // left to the place that serialises it
  }
  return value;
}

/**
 * `intern` for a value whose canonical text the caller already computed (the call's arguments,
 * canonicalised once for their digest): deep-freezes it and remembers `text`, which must be
 * `canonicalize(value)`.
 */
export function internText<T extends object>(value: T, text: string): T {
  if (texts.has(value)) return value;
  deepFreeze(value);
  texts.set(value, text);
  return value;
}

/** The canonical text of an interned value; undefined for any other. */
export function internedText(value: unknown): string | undefined {
  return typeof value === "object" && value !== null ? texts.get(value) : undefined;
}

/** Member names as JSON strings, memoised (records use a few dozen names over and over). */
const quotedKeys = new Map<string, string>();
function quoted(key: string): string {
  let q = quotedKeys.get(key);
  if (q === undefined) {
    q = JSON.stringify(key);
    if (quotedKeys.size < 1024) quotedKeys.set(key, q);
  }
  return q;
}

/** Canonical text of one member value: interned, a plain string, or canonicalised. */
export function memberValueText(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  // RFC 8785 writes a finite number as ECMAScript's Number::toString does, as JSON.stringify does.
  if (typeof value === "number" && Number.isFinite(value)) return JSON.stringify(value);
  if (typeof value === "object" && value !== null) {
    const known = texts.get(value);
    if (known !== undefined) return known;
  }
  return canonicalize(value);
}

/**
 * The canonical text of a plain object, from its members' texts. Members whose value is
 * `undefined` are left out, as in JSON. An object whose own enumerable keys do not strictly
 * ascend, that has a `toJSON`, a non-plain prototype, or a function or symbol member is
 * canonicalised whole (the general path sorts and converts as RFC 8785 says).
 */
export function memberText(obj: Record<string, unknown>): string {
  const proto = Object.getPrototypeOf(obj);
  if ((proto !== Object.prototype && proto !== null) || typeof obj.toJSON === "function")
    return canonicalize(obj);
  let text = "{";
  let prev: string | undefined;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key) || (prev !== undefined && !(prev < key))) return canonicalize(obj);
    prev = key;
    const value = obj[key];
    if (value === undefined) continue;
    if (typeof value === "function" || typeof value === "symbol") return canonicalize(obj);
    text += `${text.length > 1 ? "," : ""}${quoted(key)}:${memberValueText(value)}`;
  }
  return `${text}}`;
}
