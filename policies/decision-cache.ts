/**
 * The decision cache: cacheable decisions looked up by the input itself, minus the two fields that
 * differ on every call (`context.time`, `context.request_id`, which the default policy never reads;
 * a policy that reads them must answer `cacheable: false`). A lookup does not serialise or hash the
 * input: a short bucket key (action, principal id, target name) finds at most `BUCKET` entries, and
 * an entry matches only if the input is structurally equal to the copy stored with it — same
 * member order, same values — which implies the JSON text the policy would see is the same. So a
 * hit can never return the decision of an input the policy could tell apart; a bucket-key
 * collision only costs a comparison. Inputs holding anything JSON.stringify would render
 * specially (toJSON, class instances, undefined, functions, non-finite numbers, bigints) or
 * nesting deeper than `MAX_DEPTH` are never cached: they are evaluated every time.
 */
import { LRUCache } from "lru-cache";
import type { PolicyDecision, PolicyInput } from "../contracts/index.js";

/** Entries kept per bucket key (inputs differing only in arguments, session, …). */
export const BUCKET = 4;
const MAX_DEPTH = 64;
const OBJECT_PROTO = Object.prototype;
const ARRAY_PROTO = Array.prototype;
/** The prototypes seen as holders of an inherited `toJSON` (a load is cheaper than `in` here). */
const PROTOS = OBJECT_PROTO as { toJSON?: unknown };
const ARRAYS = ARRAY_PROTO as { toJSON?: unknown };

/** A stored object: its member names in order and their values. */
class Members {
  constructor(
    readonly keys: string[],
    readonly values: Stored[],
  ) {}
}
type Stored = string | number | boolean | null | Stored[] | Members;

interface Entry {
  input: Members;
  decision: PolicyDecision;
}

/** Thrown inside `copy` when a value is not plain JSON data; never escapes this module. */
const UNCACHEABLE = Symbol("uncacheable");

const omitted = (key: string) => key === "time" || key === "request_id";

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return (proto === OBJECT_PROTO || proto === null) && !("toJSON" in v);
}

function copy(v: unknown, depth: number, omit?: (key: string) => boolean): Stored {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      if (!Number.isFinite(v)) throw UNCACHEABLE;
      return v;
    case "object": {
      if (v === null) return null;
      if (depth >= MAX_DEPTH) throw UNCACHEABLE;
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== ARRAY_PROTO || "toJSON" in v) throw UNCACHEABLE;
        const out: Stored[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = copy(v[i], depth + 1);
        return out;
      }
      if (!isPlainObject(v)) throw UNCACHEABLE;
      const keys: string[] = [];
      const values: Stored[] = [];
      const o = v as Record<string, unknown>;
      for (const k in o) {
        if (!Object.hasOwn(o, k)) throw UNCACHEABLE;
        if (omit?.(k)) continue;
        keys.push(k);
        values.push(copy(o[k], depth + 1, k === "context" && depth === 0 ? omitted : undefined));
      }
      return new Members(keys, values);
    }
    default:
      throw UNCACHEABLE;
  }
}

/** Where `same` is in the input: the input itself, its context object, anywhere else. */
type Level = 0 | 1 | 2;
const ROOT: Level = 0;
const CONTEXT: Level = 1;
const PLAIN: Level = 2;

/** True when `a` (the caller's value) is plain data equal to `b` member by member, in order. */
function same(a: unknown, b: Stored, level: Level): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return false;
  if (Array.isArray(b)) {
    if (!Array.isArray(a) || a.length !== b.length) return false;
    if (Object.getPrototypeOf(a) !== ARRAY_PROTO || "toJSON" in a) return false;
    for (let i = 0; i < b.length; i++) {
      const x = a[i];
      const y = b[i] as Stored;
      if (x !== y && !same(x, y, PLAIN)) return false;
    }
    return true;
  }
  // Plain objects only (a Date or class instance renders differently in JSON). An own enumerable
  // toJSON would show as an extra member; an inherited one is excluded once per lookup (`get`).
  if (Array.isArray(a)) return false;
  const proto = Object.getPrototypeOf(a);
  if (proto !== OBJECT_PROTO && proto !== null) return false;
  const { keys, values } = b;
  // Object.keys/values (builtins) instead of for-in and o[k]: the property loads here see every
  // shape of the input and would go megamorphic.
  const ks = Object.keys(a);
  const vs = Object.values(a);
  let i = 0;
  for (let j = 0; j < ks.length; j++) {
    const k = ks[j] as string;
    if (level === CONTEXT && omitted(k)) continue;
    if (k !== keys[i]) return false;
    const x = vs[j];
    const y = values[i] as Stored;
    // Equal primitives (most members) are settled here, without a call.
    if (x !== y && !same(x, y, level === ROOT && k === "context" ? CONTEXT : PLAIN)) return false;
    i++;
  }
  return i === keys.length;
}

function bucketKey(input: PolicyInput): string {
  const i = input as unknown as {
    action?: unknown;
    principal?: { id?: unknown };
    target?: { name?: unknown };
  };
  if (typeof i !== "object" || i === null) return "";
  const action = typeof i.action === "string" ? i.action : "";
  const id = i.principal && typeof i.principal.id === "string" ? i.principal.id : "";
  const name = i.target && typeof i.target.name === "string" ? i.target.name : "";
  return `${action}\u0000${id}\u0000${name}`;
}

/** An LRU of decisions for one bundle revision: a swap replaces the whole cache. */
export class DecisionCache {
  readonly #lru: LRUCache<string, Entry[]>;

  /** `size` = most decisions kept (each bucket counts its entries). */
  constructor(size: number) {
    this.#lru = new LRUCache<string, Entry[]>({ maxSize: size, sizeCalculation: (b) => b.length });
  }

  /** The cached decision for an input equal to `input` apart from time and request id. */
  get(input: PolicyInput): PolicyDecision | undefined {
    const bucket = this.#lru.get(bucketKey(input));
    if (bucket === undefined || PROTOS.toJSON !== undefined || ARRAYS.toJSON !== undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) {
      const entry = bucket[i] as Entry;
      if (same(input, entry.input, ROOT)) return entry.decision;
    }
    return undefined;
  }

  /**
   * Stores a decision for `input` (a copy of it: later changes to the caller's object do not
   * matter). Returns false, storing nothing, when the input is not plain JSON data.
   */
  set(input: PolicyInput, decision: PolicyDecision): boolean {
    let stored: Stored;
    try {
      stored = copy(input, 0);
    } catch (e) {
      if (e === UNCACHEABLE) return false;
      throw e;
    }
    if (!(stored instanceof Members)) return false;
    const key = bucketKey(input);
    const old = this.#lru.peek(key) ?? [];
    const kept = old.filter((e) => !same(input, e.input, ROOT)).slice(0, BUCKET - 1);
    // A new array each time: the LRU recomputes the bucket's size only when the value changes.
    this.#lru.set(key, [{ input: stored, decision }, ...kept]);
    return true;
  }

  get size(): number {
    return this.#lru.calculatedSize;
  }
}
