/**
 * The decision service: the one way the gateway asks the policy. It picks an engine (Rust first,
 * TypeScript fallback, or forced), caches decisions the policy marks cacheable, stamps every
 * decision with an id, the bundle revision and the policy hash, publishes each on the
 * `portcullis:decision` diagnostics channel, and never throws: any failure is a deny with a
 * registered reason code (POLICY_NO_BUNDLE, POLICY_ERROR, POLICY_UNDEFINED).
 */
import { randomBytes } from "node:crypto";
import { channel } from "node:diagnostics_channel";
import type { PolicyDecision, PolicyInput } from "../contracts/index.js";
import { isRegisteredReasonCode } from "../contracts/index.js";
import { intern } from "../gateway/canonical-fragments.js";
import { errorMessage, PortcullisError } from "../gateway/errors.js";
import { defaultBundlePath, loadBundle, type PolicyBundle } from "./bundle.js";
import { DecisionCache } from "./decision-cache.js";
import type { EngineName, PolicyEvaluator } from "./engine.js";
import { jsonText } from "./json-text.js";
import { createRustEvaluator, nativePolicyBinding } from "./native-engine.js";
import { InputProjector } from "./projection.js";
import { createTsEvaluator } from "./wasm-engine.js";

export type EngineChoice = "auto" | "ts" | "rust";

export interface DecisionServiceOptions {
  /** Bundle archive; default: the committed `rego/build/bundle.tar.gz`. */
  bundlePath?: string;
  /** Replaces the bundle's data.json (a value, or JSON text to keep big integers exact). */
  data?: unknown;
  engine?: EngineChoice;
  /** Decision cache entries; 0 disables the cache. Default 10,000. */
  cacheSize?: number;
}

export type StampedDecision = PolicyDecision & {
  decision_id: string;
  revision: string;
  policy_hash: string;
  engine: EngineName;
  cached: boolean;
};

export interface DecisionService {
  decide(input: PolicyInput): Promise<StampedDecision>;
  /**
   * The same decision, returned directly: every engine evaluates synchronously, so a caller that
   * can use the value at once (the pipeline's decide stage) saves the promise and the microtask.
   */
  decideSync(input: PolicyInput): StampedDecision;
  /** Revision of the active bundle ("none" when no bundle could be loaded). */
  readonly revision: string;
  readonly policyHash: string;
  readonly engine: EngineName;
  /**
   * Loads a new bundle in the chosen engine, checks it answers a probe input, then swaps it in
   * with a fresh cache in one assignment. On any failure the current bundle keeps serving.
   */
  activate(opts: { bundlePath?: string; data?: unknown }): Promise<void>;
  close(): Promise<void>;
}

/** Payload published on `portcullis:decision`. */
export interface DecisionMessage {
  input: PolicyInput;
  decision: StampedDecision;
  duration_ns: number;
}

export const decisionChannel = channel("portcullis:decision");

interface ActiveBundle {
  revision: string;
  policyHash: string;
  evaluator?: PolicyEvaluator;
  /** Set when there is nothing to evaluate: every decision is this deny. */
  failure?: PolicyDecision;
  cache?: DecisionCache;
  results?: ResultMemo;
  /** The bundle's declared input projection, compiled; absent: the whole input is evaluated. */
  projector?: InputProjector;
}

/** A deny carrying one registered code: what the service answers whenever the policy cannot. */
export function failClosed(code: string, message: string): PolicyDecision {
  return {
    v: 1,
    decision: "deny",
    reasons: [{ code, message }],
    obligations: { audit_level: "full" },
    cacheable: false,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Checks the fields the gateway acts on; anything else from a custom bundle fails closed. */
export function checkDecision(value: unknown): PolicyDecision | string {
  if (!value || typeof value !== "object" || Array.isArray(value)) return "decision is not an object";
  const d = value as Record<string, unknown>;
  if (d.v !== 1) return "decision.v is not 1";
  if (d.decision !== "allow" && d.decision !== "deny" && d.decision !== "ask_user")
    return "bad decision value";
  if (!Array.isArray(d.reasons)) return "decision.reasons is not an array";
  for (const r of d.reasons as unknown[]) {
    const reason = r as { code?: unknown; message?: unknown } | null;
    if (!reason || typeof reason.code !== "string" || typeof reason.message !== "string") return "bad reason";
    if (!isRegisteredReasonCode(reason.code)) return `unregistered reason code ${reason.code}`;
  }
  if (!d.obligations || typeof d.obligations !== "object") return "decision.obligations is not an object";
  if (d.decision === "ask_user") {
    const ask = d.ask as { prompt?: unknown; ttl_s?: unknown } | undefined;
    if (!ask || typeof ask.prompt !== "string" || typeof ask.ttl_s !== "number")
      return "ask_user without ask";
  }
  return value as PolicyDecision;
}

function dataBytes(data: unknown): Uint8Array | undefined {
  if (data === undefined) return undefined;
  if (data instanceof Uint8Array) return data;
  return new TextEncoder().encode(typeof data === "string" ? data : JSON.stringify(data));
}

/**
 * `auto` picks the engine measured faster on this build. Both hosts now compile the module (V8
 * for TS, wasmtime/Cranelift for Rust) and run the same policy code; the Rust engine through napi
 * measured ~10% slower per decision than TS in the same process (bench/policy.bench.ts, see
 * README.md: the napi crossing and string conversion, and Cranelift's code a little behind V8's
 * for this module), so `auto` stays TS; `rust` is available when forced, with proven parity.
 */
export const AUTO_ENGINE: EngineName = "ts";

function resolveEngine(choice: EngineChoice): EngineName {
  if (choice === "ts") return "ts";
  if (choice === "rust") {
    const { binding, reason } = nativePolicyBinding();
    if (!binding) throw new PortcullisError("GW_ERR_NATIVE", `Rust policy engine unavailable: ${reason}`);
    return "rust";
  }
  return AUTO_ENGINE;
}

export async function instantiate(engine: EngineName, bundle: PolicyBundle): Promise<PolicyEvaluator> {
  return engine === "rust"
    ? createRustEvaluator(bundle.wasm, bundle.data)
    : await createTsEvaluator(bundle.wasm, bundle.data);
}

/** A probe every bundle must answer with a valid decision before it is activated. */
const PROBE: PolicyInput = {
  v: 1,
  action: "tools/list",
  principal: { id: "probe", roles: [], authenticated: false, via: "anonymous" },
  target: { kind: "tool", name: "probe__probe" },
  arguments: {},
  data_classes: [],
  context: { time: "1970-01-01T00:00:00Z", request_id: "probe", transport: "http" },
} as PolicyInput;

/** Runs one evaluation on JSON text and turns every failure into a fail-closed decision. */
export function evaluateDecision(evaluator: PolicyEvaluator, text: string): PolicyDecision {
  let resultSet: string;
  try {
    resultSet = evaluator.evaluate(text);
  } catch (e) {
    return failClosed("POLICY_ERROR", `policy evaluation failed: ${errorMessage(e)}`);
  }
  return decisionOf(resultSet);
}

/** The decision in a result-set JSON text, checked; anything else fails closed. */
export function decisionOf(resultSet: string): PolicyDecision {
  let set: unknown;
  try {
    set = JSON.parse(resultSet);
  } catch (e) {
    return failClosed("POLICY_ERROR", `policy evaluation failed: ${errorMessage(e)}`);
  }
  if (!Array.isArray(set)) return failClosed("POLICY_ERROR", "policy returned a malformed result set");
  if (set.length === 0) return failClosed("POLICY_UNDEFINED", "The policy returned no decision (undefined).");
  if (set.length > 1) return failClosed("POLICY_ERROR", "policy returned more than one decision");
  const checked = checkDecision((set[0] as { result?: unknown }).result);
  return typeof checked === "string"
    ? failClosed("POLICY_ERROR", `policy decision rejected: ${checked}`)
    : checked;
}

/** Distinct result texts remembered per bundle; past this the memo starts over. */
export const RESULT_MEMO_SIZE = 512;

/**
 * Parsed, checked and frozen decisions by the exact result-set text the module returned. Most
 * inputs lead to one of a few decisions, and a Map lookup of the text costs a fraction of
 * JSON.parse plus the check; equal text means an equal decision, so a hit is never wrong.
 */
export class ResultMemo {
  readonly #decisions = new Map<string, PolicyDecision>();

  decision(resultSet: string): PolicyDecision {
    const known = this.#decisions.get(resultSet);
    if (known !== undefined) return known;
    const d = decisionOf(resultSet);
    if (d.reasons[0]?.code.startsWith("POLICY_")) return d;
    if (this.#decisions.size >= RESULT_MEMO_SIZE) this.#decisions.clear();
    this.#decisions.set(resultSet, deepFreeze(d));
    return d;
  }
}

async function loadActive(
  engine: EngineName,
  bundlePath: string,
  data: unknown,
  cacheSize: number,
): Promise<ActiveBundle> {
  let bundle: PolicyBundle;
  try {
    bundle = await loadBundle(bundlePath, dataBytes(data));
  } catch (e) {
    return { revision: "none", policyHash: "", failure: failClosed("POLICY_NO_BUNDLE", errorMessage(e)) };
  }
  const stamp = { revision: bundle.revision, policyHash: bundle.policyHash };
  let evaluator: PolicyEvaluator;
  try {
    evaluator = await instantiate(engine, bundle);
  } catch (e) {
    if (e instanceof PortcullisError && e.code === "GW_ERR_NATIVE") throw e;
    return { ...stamp, failure: failClosed("POLICY_ERROR", errorMessage(e)) };
  }
  const cache = cacheSize > 0 ? new DecisionCache(cacheSize) : undefined;
  const a: ActiveBundle = { ...stamp, evaluator, results: new ResultMemo() };
  if (cache) a.cache = cache;
  if (bundle.projection) a.projector = new InputProjector(bundle.projection);
  return a;
}

/**
 * Decision ids: UUID-shaped, 74 random bits drawn once per process followed by a 48-bit counter
 * (randomUUID per decision cost ~10% of the cache-hit budget). A decision id correlates a
 * decision with its audit record and decision-log event; it grants nothing, so it must be unique
 * (the counter within a process, the random part across processes), not secret. Ids from one
 * process are therefore sequential, and say how many decisions that process made before.
 */
const idPrefix = (() => {
  const hex = randomBytes(10).toString("hex");
  // xxxxxxxx-xxxx-4xxx-Nxxx-: version 4 and variant bits, so the id still parses as a UUID.
  const variant = ((Number.parseInt(hex[15] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(12, 15)}-${variant}${hex.slice(16, 19)}-`;
})();
let idCounter = 0;
const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** The id of the `n`th decision of this process: the prefix and `n` as 12 hex digits. */
export function decisionIdFor(n: number): string {
  // Six table lookups: ~17 ns, where toString(16).padStart(12) took ~65 ns (a hit's budget is 1 µs).
  const hi = Math.floor(n / 0x1000000);
  const lo = n % 0x1000000;
  return (
    idPrefix +
    HEX_BYTES[(hi >>> 16) & 255] +
    HEX_BYTES[(hi >>> 8) & 255] +
    HEX_BYTES[hi & 255] +
    HEX_BYTES[lo >>> 16] +
    HEX_BYTES[(lo >>> 8) & 255] +
    HEX_BYTES[lo & 255]
  );
}

export function nextDecisionId(): string {
  idCounter++;
  return decisionIdFor(idCounter);
}

export async function createDecisionService(opts: DecisionServiceOptions = {}): Promise<DecisionService> {
  const engine = resolveEngine(opts.engine ?? "auto");
  const cacheSize = opts.cacheSize ?? 10_000;
  let active = await loadActive(engine, opts.bundlePath ?? defaultBundlePath(), opts.data, cacheSize);

  const stamp = (a: ActiveBundle, d: PolicyDecision, cached: boolean): StampedDecision => {
    // Members copied one by one: an object spread of a frozen decision measured ~20x slower.
    const s: StampedDecision = {
      v: d.v,
      decision: d.decision,
      reasons: d.reasons,
      obligations: d.obligations,
      decision_id: nextDecisionId(),
      revision: a.revision,
      policy_hash: a.policyHash,
      engine,
      cached,
    };
    if (d.ask !== undefined) s.ask = d.ask;
    if (d.cacheable !== undefined) s.cacheable = d.cacheable;
    return s;
  };

  const decideNow = (input: PolicyInput): StampedDecision => {
    const a = active; // one snapshot per decision: a concurrent swap never mixes bundles
    if (a.failure || !a.evaluator) return stamp(a, a.failure ?? failClosed("POLICY_ERROR", "closed"), false);
    const projector = a.projector;
    const shape = projector?.shapeOf(input);
    let text: string;
    try {
      const hit = a.cache?.get(input, shape);
      if (hit) return stamp(a, hit, true);
      const whole = projector ? projector.text(input, shape) : jsonText(input);
      if (whole === undefined) throw new TypeError("the input has no JSON text");
      text = whole;
    } catch (e) {
      return stamp(a, failClosed("POLICY_ERROR", `input cannot be serialised: ${errorMessage(e)}`), false);
    }
    let resultSet: string;
    try {
      resultSet = a.evaluator.evaluate(text);
    } catch (e) {
      return stamp(a, failClosed("POLICY_ERROR", `policy evaluation failed: ${errorMessage(e)}`), false);
    }
    const decision = a.results ? a.results.decision(resultSet) : decisionOf(resultSet);
    if (a.cache && decision.cacheable === true) {
      // Cached reasons are shared by every hit: interned, the audit records reuse their text.
      a.cache.set(input, deepFreeze(decision), shape);
      intern(decision.reasons);
    }
    return stamp(a, decision, false);
  };

  const decideSync = (input: PolicyInput): StampedDecision => {
    if (!decisionChannel.hasSubscribers) return decideNow(input);
    const t0 = process.hrtime.bigint();
    const decision = decideNow(input);
    const message: DecisionMessage = { input, decision, duration_ns: Number(process.hrtime.bigint() - t0) };
    decisionChannel.publish(message);
    return decision;
  };

  return {
    get revision() {
      return active.revision;
    },
    get policyHash() {
      return active.policyHash;
    },
    engine,
    decideSync,
    async decide(input) {
      return decideSync(input);
    },
    async activate(next) {
      const candidate = await loadActive(
        engine,
        next.bundlePath ?? defaultBundlePath(),
        next.data,
        cacheSize,
      );
      if (candidate.failure || !candidate.evaluator) {
        const reason = candidate.failure?.reasons[0];
        throw new PortcullisError(
          "GW_ERR_BUNDLE",
          `bundle not activated: ${reason?.code} ${reason?.message}`,
        );
      }
      const probeText = candidate.projector ? candidate.projector.text(PROBE) : JSON.stringify(PROBE);
      const probe = evaluateDecision(candidate.evaluator, probeText);
      const code = probe.reasons[0]?.code ?? "";
      if (code.startsWith("POLICY_")) {
        throw new PortcullisError("GW_ERR_BUNDLE", `bundle not activated: probe decision ${code}`);
      }
      active = candidate;
    },
    async close() {
      active = {
        revision: active.revision,
        policyHash: active.policyHash,
        failure: failClosed("POLICY_ERROR", "decision service closed"),
      };
    },
  };
}
