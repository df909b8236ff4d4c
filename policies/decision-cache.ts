/**
 * The decision cache: cacheable decisions looked up by the input itself. With a bundle that
 * declares an input projection, only the members the projection keeps count (the shape picked
 * for the input, see projection.ts); an entry matches only if those are structurally equal to the
 * copy stored with it — same member order, same values — which implies the projected JSON text
 * the policy evaluates is the same. Without a declaration, the whole input counts apart from the
 * two fields that differ on every call (`context.time`, `context.request_id`, which a policy
 * without a declaration must answer `cacheable: false` for if it reads them). Either way a hit
 * can never return the decision of an input the policy could tell apart. A lookup does not
 * serialise or hash the input: the action, principal id and target name find a bucket of at most
 * `BUCKET` entries; inputs sharing a bucket only cost a comparison. Inputs whose compared parts
 * hold anything JSON.stringify would render specially (toJSON, class instances, undefined,
 * functions, non-finite numbers, bigints) or nest deeper than `MAX_DEPTH` are never cached.
 */
import { LRUCache } from "lru-cache";
import type { PolicyDecision, PolicyInput } from "../contracts/index.js";
import type { ObjectShape, Shape } from "./projection.js";

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
  input: Members | Kept;
  decision: PolicyDecision;
  /** The projection shape the input was stored under (none: the whole input minus time and id). */
  shape: Shape | undefined;
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
  // for-in, not Object.keys/values: no two arrays per object, and V8 reads `a[k]` inside the loop
  // through the enum cache of `a`'s shape. An enumerable inherited member (a polluted prototype)
  // shows up here as an extra member and turns the comparison into a miss; `copy` never stores one.
  let i = 0;
  for (const k in a) {
    if (level === CONTEXT && omitted(k)) continue;
    if (k !== keys[i]) return false;
    const x = (a as Record<string, unknown>)[k];
    const y = values[i] as Stored;
    // Equal primitives (most members) are settled here, without a call.
    if (x !== y && !same(x, y, level === ROOT && k === "context" ? CONTEXT : PLAIN)) return false;
    i++;
  }
  return i === keys.length;
}

/**
 * A stored object projected by a shape: the kept members in order, their values, the shape of
 * each (so a lookup needs no map lookup for the members it finds in place), the names of all the
 * object's members in order, kept or not, and for each of those names the index of its kept
 * member (-1: dropped). While a caller's object lists the same names in the same order, each
 * name's fate is read from `slots` without asking the shape.
 */
class Kept {
  constructor(
    readonly keys: string[],
    readonly values: Stored[],
    readonly shapes: Shape[],
    readonly names: string[],
    readonly slots: number[],
  ) {}
}

/** A copy of the members of `v` that `shape` keeps; whole where it keeps the whole value. */
function copyKept(v: unknown, shape: Shape, depth: number): Stored | Kept {
  if (shape === true || typeof v !== "object" || v === null || Array.isArray(v)) return copy(v, depth);
  if (depth >= MAX_DEPTH || !isPlainObject(v)) throw UNCACHEABLE;
  const keys: string[] = [];
  const values: Stored[] = [];
  const shapes: Shape[] = [];
  const names: string[] = [];
  const slots: number[] = [];
  const o = v as Record<string, unknown>;
  const members = shape.members;
  for (const k in o) {
    names.push(k);
    const m = members.get(k);
    slots.push(m === undefined ? -1 : keys.length);
    if (m === undefined) continue;
    if (!Object.hasOwn(o, k)) throw UNCACHEABLE;
    keys.push(k);
    values.push(copyKept(o[k], m.shape, depth + 1) as Stored);
    shapes.push(m.shape);
  }
  return new Kept(keys, values, shapes, names, slots);
}

/**
 * True when the members of `a` (the caller's value) that `shape` keeps equal the stored copy `b`,
 * in order: the projected texts are then equal. The common case, `a` listing exactly the stored
 * object's names in the same order, reads each name's fate from `b.slots` and compares the kept
 * ones; any other list of names is judged by `sameKeptMembers`. Inherited enumerable members are
 * excluded once per lookup (`get`).
 */
function sameKept(a: unknown, b: Stored | Kept, shape: Shape): boolean {
  if (!(b instanceof Kept)) return a === b || same(a, b, PLAIN);
  // A Kept is stored only for a plain object under an object shape; arrays fail the prototype test.
  if (typeof a !== "object" || a === null) return false;
  const proto = Object.getPrototypeOf(a);
  if (proto !== OBJECT_PROTO && proto !== null) return false;
  const { names, slots, values, shapes } = b;
  let n = 0;
  for (const k in a) {
    // Another name here: start over the slower way (what was compared so far is compared again).
    if (k !== names[n]) return sameKeptMembers(a as Record<string, unknown>, b, shape as ObjectShape);
    const s = slots[n++] as number;
    if (s < 0) continue; // a name the stored object had and the shape dropped
    const x = (a as Record<string, unknown>)[k];
    const y = values[s] as Stored | Kept;
    if (x !== y && !sameKept(x, y, shapes[s] as Shape)) return false;
  }
  return n === names.length || sameKeptMembers(a as Record<string, unknown>, b, shape as ObjectShape);
}

/**
 * `sameKept` for an object whose names differ from the stored object's: a member of `a` in the
 * next kept member's place is compared; any other must be one the shape drops (else the order or
 * the set of kept members differs, or an own toJSON would render the object) and is never read.
 */
function sameKeptMembers(a: Record<string, unknown>, b: Kept, shape: ObjectShape): boolean {
  const { keys, values, shapes } = b;
  let i = 0;
  for (const k in a) {
    if (k !== keys[i]) {
      if (k === "toJSON" || shape.members.has(k)) return false;
      continue;
    }
    const x = a[k];
    const y = values[i] as Stored | Kept;
    if (x !== y && !sameKept(x, y, shapes[i] as Shape)) return false;
    i++;
  }
  return i === keys.length;
}

/** True when Object.prototype has an enumerable member, which for-in would show in every object. */
function polluted(): boolean {
  for (const _ in OBJECT_PROTO) return true;
  return false;
}

/** What picks a bucket: action, principal id, target name ("" when absent or not a string). */
function bucketNames(input: PolicyInput): [string, string, string] {
  const i = input as unknown as {
    action?: unknown;
    principal?: { id?: unknown };
    target?: { name?: unknown };
  };
  if (typeof i !== "object" || i === null) return ["", "", ""];
  const action = typeof i.action === "string" ? i.action : "";
  const id = i.principal && typeof i.principal.id === "string" ? i.principal.id : "";
  const name = i.target && typeof i.target.name === "string" ? i.target.name : "";
  return [action, id, name];
}

/** The entries stored for one (action, principal id, target name); the LRU's key by identity. */
class Bucket {
  constructor(
    readonly action: string,
    readonly id: string,
    readonly name: string,
  ) {}
}

type Index = Map<string, Map<string, Map<string, Bucket>>>;

/** An LRU of decisions for one bundle revision: a swap replaces the whole cache. */
export class DecisionCache {
  readonly #lru: LRUCache<Bucket, Entry[]>;
  /**
   * Buckets by action, then principal id, then target name. Three lookups of the input's own
   * strings measured ~5x cheaper than building one joined key string and hashing it; the LRU is
   * keyed by the bucket object (an identity hash) and removes a bucket from here when it drops it.
   */
  readonly #index: Index = new Map();

  /** `size` = most decisions kept (each bucket counts its entries). */
  constructor(size: number) {
    this.#lru = new LRUCache<Bucket, Entry[]>({
      maxSize: size,
      sizeCalculation: (b) => b.length,
      // "set" = the bucket's entries replaced by a new array: the bucket itself stays.
      dispose: (_entries, bucket, reason) => {
        if (reason !== "set") this.#unindex(bucket);
      },
    });
  }

  #unindex(bucket: Bucket): void {
    const ids = this.#index.get(bucket.action);
    const names = ids?.get(bucket.id);
    if (!ids || !names || names.get(bucket.name) !== bucket) return;
    names.delete(bucket.name);
    if (names.size === 0) ids.delete(bucket.id);
    if (ids.size === 0) this.#index.delete(bucket.action);
  }

  /**
   * The cached decision for an input whose members kept by `shape` equal `input`'s (without a
   * shape: equal apart from time and request id).
   */
  get(input: PolicyInput, shape?: Shape): PolicyDecision | undefined {
    const i = input as unknown as {
      action?: unknown;
      principal?: { id?: unknown };
      target?: { name?: unknown };
    };
    if (typeof i !== "object" || i === null) return undefined;
    const action = typeof i.action === "string" ? i.action : "";
    const id = i.principal && typeof i.principal.id === "string" ? i.principal.id : "";
    const name = i.target && typeof i.target.name === "string" ? i.target.name : "";
    const bucket = this.#index.get(action)?.get(id)?.get(name);
    if (bucket === undefined || PROTOS.toJSON !== undefined || ARRAYS.toJSON !== undefined) return undefined;
    const entries = this.#lru.get(bucket);
    if (entries === undefined) return undefined;
    if (shape !== undefined && polluted()) return undefined;
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e] as Entry;
      if (entry.shape !== shape) continue;
      if (
        shape === undefined ? same(input, entry.input as Members, ROOT) : sameKept(input, entry.input, shape)
      )
        return entry.decision;
    }
    return undefined;
  }

  /**
   * Stores a decision for `input` (a copy of it: later changes to the caller's object do not
   * matter). Returns false, storing nothing, when the input is not plain JSON data.
   */
  set(input: PolicyInput, decision: PolicyDecision, shape?: Shape): boolean {
    let stored: Stored | Kept;
    try {
      stored = shape === undefined ? copy(input, 0) : copyKept(input, shape, 0);
    } catch (e) {
      if (e === UNCACHEABLE) return false;
      throw e;
    }
    if (!(stored instanceof Members) && !(stored instanceof Kept)) return false;
    const [action, id, name] = bucketNames(input);
    let ids = this.#index.get(action);
    if (!ids) {
      ids = new Map();
      this.#index.set(action, ids);
    }
    let names = ids.get(id);
    if (!names) {
      names = new Map();
      ids.set(id, names);
    }
    let bucket = names.get(name);
    if (!bucket) {
      bucket = new Bucket(action, id, name);
      names.set(name, bucket);
    }
    const old = this.#lru.peek(bucket) ?? [];
    const kept = old
      .filter(
        (e) =>
          e.shape !== shape ||
          !(shape === undefined ? same(input, e.input as Members, ROOT) : sameKept(input, e.input, shape)),
      )
      .slice(0, BUCKET - 1);
    // A new array each time: the LRU recomputes the bucket's size only when the value changes.
    this.#lru.set(bucket, [{ input: stored, decision, shape }, ...kept]);
    // A bucket larger than the whole cache is not stored (and nothing disposed): keep the index
    // holding only what the LRU holds.
    if (!this.#lru.has(bucket)) this.#unindex(bucket);
    return true;
  }

  get size(): number {
    return this.#lru.calculatedSize;
  }
}
