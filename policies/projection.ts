/**
 * Input projection: a bundle may declare which parts of the policy input its policy can read
 * (`metadata.portcullis.input_projection` in its `.manifest`, from `rego/projection.json`). The
 * tree for an input is `keep` deep-merged with `by_action[input.action]`; projecting a value by a
 * tree keeps it whole where the tree is `true`, keeps only the named members (in the value's own
 * order) where the tree is an object and the value a plain object, and keeps any other value
 * (array, string, number, boolean, null) as it is, so type checks in the policy see the same
 * thing. The declaration is validated when the bundle loads (an invalid one fails the load) and
 * compiled once into shapes; `InputProjector.text` then writes the projected JSON text in one pass
 * (each kept value exactly as JSON.stringify writes it, see json-text.ts), and the decision cache
 * compares only the members a shape keeps.
 */
import { PortcullisError } from "../gateway/errors.js";
import { isPlainRecord, jsonText, prototypeHasEnumerables } from "./json-text.js";

/** A node of a declaration: `true` keeps the value whole, an object keeps only its members. */
export type ProjectionTree = true | { readonly [member: string]: ProjectionTree };

/** The declaration as the bundle states it. */
export interface InputProjection {
  keep: ProjectionTree;
  by_action?: { readonly [action: string]: ProjectionTree };
}

/** A compiled tree: `true`, or the kept members of an object by name. */
export type Shape = true | ObjectShape;

export interface KeptMember {
  /** The member's name as JSON text followed by a colon, ready to write. */
  readonly head: string;
  readonly shape: Shape;
}

export class ObjectShape {
  constructor(readonly members: ReadonlyMap<string, KeptMember>) {}
}

/** Deepest tree a declaration may hold (the default one is 4 levels deep). */
export const MAX_PROJECTION_DEPTH = 32;

function invalid(message: string): PortcullisError {
  return new PortcullisError("GW_ERR_BUNDLE", `bundle input projection is invalid: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkTree(v: unknown, path: string, depth: number): ProjectionTree {
  if (v === true) return true;
  if (!isRecord(v)) throw invalid(`${path} must be true or an object of members (got ${JSON.stringify(v)})`);
  if (depth >= MAX_PROJECTION_DEPTH) throw invalid(`${path} is nested deeper than ${MAX_PROJECTION_DEPTH}`);
  for (const [name, sub] of Object.entries(v)) checkTree(sub, `${path}.${JSON.stringify(name)}`, depth + 1);
  return v as ProjectionTree;
}

/**
 * Checks a declaration (the parsed `input_projection` value): `keep` is a tree, `by_action` an
 * object of trees, nothing else. Throws `GW_ERR_BUNDLE` naming the first fault.
 */
export function parseInputProjection(value: unknown): InputProjection {
  if (!isRecord(value)) throw invalid("it must be an object with keep and optional by_action");
  for (const key of Object.keys(value)) {
    if (key !== "keep" && key !== "by_action") throw invalid(`unknown member ${JSON.stringify(key)}`);
  }
  if (!("keep" in value)) throw invalid("keep is missing");
  const keep = checkTree(value.keep, "keep", 0);
  if (value.by_action === undefined) return { keep };
  if (!isRecord(value.by_action)) throw invalid("by_action must be an object of trees by action");
  // Null prototype: an action named "__proto__" is a member like any other.
  const byAction: Record<string, ProjectionTree> = Object.create(null);
  for (const [action, tree] of Object.entries(value.by_action)) {
    byAction[action] = checkTree(tree, `by_action.${JSON.stringify(action)}`, 0);
  }
  return { keep, by_action: byAction };
}

/** `a` deep-merged with `b`: `true` on either side wins, objects unite their members. */
export function mergeTrees(a: ProjectionTree, b: ProjectionTree): ProjectionTree {
  if (a === true || b === true) return true;
  const out: Record<string, ProjectionTree> = Object.assign(Object.create(null), a);
  for (const [name, sub] of Object.entries(b)) {
    const mine = Object.hasOwn(out, name) ? out[name] : undefined;
    out[name] = mine === undefined ? sub : mergeTrees(mine, sub);
  }
  return out;
}

function compile(tree: ProjectionTree): Shape {
  if (tree === true) return true;
  const members = new Map<string, KeptMember>();
  for (const [name, sub] of Object.entries(tree)) {
    members.set(name, { head: `${JSON.stringify(name)}:`, shape: compile(sub) });
  }
  return new ObjectShape(members);
}

/**
 * True for the objects a shape projects: plain objects (Object.prototype or null prototype)
 * without a `toJSON`. JSON.stringify renders anything else by its own rules, so those are kept
 * whole, like arrays and scalars.
 */
export function isProjectable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && isPlainRecord(v);
}

/** JSON text of `v` projected by `shape`; undefined where JSON.stringify would leave it out. */
function write(v: unknown, shape: Shape, depth: number, key: string): string | undefined {
  if (shape === true || !isProjectable(v)) return jsonText(v, depth, key);
  const members = shape.members;
  const checkOwn = prototypeHasEnumerables();
  let out = "{";
  for (const name in v) {
    const m = members.get(name);
    if (m === undefined || (checkOwn && !Object.hasOwn(v, name))) continue;
    const text = write(v[name], m.shape, depth + 1, name);
    if (text === undefined) continue;
    out += out.length === 1 ? m.head + text : `,${m.head}${text}`;
  }
  return `${out}}`;
}

/** A declaration compiled once per bundle: picks the shape for an input and writes its text. */
export class InputProjector {
  readonly #keep: Shape;
  readonly #byAction: ReadonlyMap<string, Shape>;

  constructor(readonly declaration: InputProjection) {
    this.#keep = compile(declaration.keep);
    const byAction = new Map<string, Shape>();
    for (const [action, tree] of Object.entries(declaration.by_action ?? {})) {
      byAction.set(action, compile(mergeTrees(declaration.keep, tree)));
    }
    this.#byAction = byAction;
  }

  /** The shape for this input: `keep`, merged with the entry named by its own string `action`. */
  shapeOf(input: unknown): Shape {
    if (this.#byAction.size === 0 || !isProjectable(input) || !Object.hasOwn(input, "action"))
      return this.#keep;
    const action = input.action;
    return (typeof action === "string" && this.#byAction.get(action)) || this.#keep;
  }

  /**
   * The projected input as JSON text (what the policy evaluates). Throws what JSON.stringify
   * throws on a kept value (a bigint, a cycle) and when the input itself has no JSON text.
   */
  text(input: unknown, shape: Shape = this.shapeOf(input)): string {
    const text = write(input, shape, 0, "");
    if (text === undefined) throw new TypeError("the input has no JSON text");
    return text;
  }
}
