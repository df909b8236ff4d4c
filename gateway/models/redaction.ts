/**
 * Redaction before egress. The sanitizer (native `redactValue`) runs over everything of a model
 * request that leaves the machine as text: system prompts, message text, tool-call arguments
 * (parsed, so a replacement can never break their JSON) and tool results. `EgressRedactor.prepare`
 * scans once per request; `forProvider` then gives, per provider, the request to send: findings
 * of the policy's detectors (a detector id or a data class name) are masked, hashed (HMAC with the
 * configured key) or replaced by reversible placeholders — except classes that `allowed_providers`
 * lets go to that provider unredacted — or, with `block`, the provider is refused. What still
 * leaves unredacted is reported as the target's data classes for the policy. Without a redaction
 * policy nothing is rewritten and every class found is reported. A failing sanitizer refuses the
 * request (fail closed). Reversible placeholders are restored in the answer (restore.ts).
 */
import { randomBytes } from "node:crypto";
import type { ChatRequest, ContentPart } from "../../adapters/models/types.js";
import type { RedactionPolicy } from "../../contracts/index.js";
import type { Finding, Redaction, RedactOptions } from "../../native/index.js";
import { errorMessage } from "../errors.js";
import { ModelCallError } from "./failures.js";

export type RedactFn = (value: unknown, opts: RedactOptions) => Redaction;

export interface EgressOptions {
  policy?: RedactionPolicy;
  /** Key of the `hash` action; default a random key per redactor. */
  hashKey?: string;
  /** The sanitizer (tests inject a failing one). */
  redact: RedactFn;
}

/** A finding as the policy input carries it. */
export interface EgressFinding {
  class: string;
  detector: string;
  path: string;
}

/** What one provider may be sent. */
export type Egress =
  | {
      request: ChatRequest;
      /** Data classes that leave unredacted (the policy input's `data_classes`). */
      dataClasses: string[];
      findings: EgressFinding[];
      /** Placeholder → original, when reversible placeholders were used. */
      mapping?: Record<string, string>;
    }
  | { blocked: string[] };

/** The strings of a request that leave the machine, in a JSON shape the sanitizer walks. */
interface Payload {
  system: string[];
  /** Per message, per part: text, parsed tool arguments, tool result, or null (images). */
  messages: unknown[][];
}

function parseArguments(s: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch {
    return { ok: false };
  }
}

function payloadOf(req: ChatRequest): { payload: Payload; parsed: boolean[][] } {
  const parsed: boolean[][] = [];
  const messages = req.messages.map((m, i) => {
    parsed[i] = [];
    return m.content.map((p, j) => {
      if (p.type === "text") return p.text;
      if (p.type === "tool_result") return p.content;
      if (p.type === "tool_call") {
        const a = parseArguments(p.arguments);
        parsed[i]![j] = a.ok;
        return a.ok ? a.value : p.arguments;
      }
      return null;
    });
  });
  return { payload: { system: req.system, messages }, parsed };
}

function rebuild(req: ChatRequest, value: Payload, parsed: boolean[][]): ChatRequest {
  return {
    ...req,
    system: value.system,
    messages: req.messages.map((m, i) => ({
      ...m,
      content: m.content.map((p, j): ContentPart => {
        const v = value.messages[i]![j];
        if (p.type === "text") return { ...p, text: v as string };
        if (p.type === "tool_result") return { ...p, content: v as string };
        if (p.type === "tool_call")
          return { ...p, arguments: parsed[i]![j] ? JSON.stringify(v) : (v as string) };
        return p;
      }),
    })),
  };
}

const unique = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** The redaction state of one request: scanned once, sent per provider. */
export interface PreparedEgress {
  /** Every data class found (route matching uses these). */
  found: string[];
  forProvider(providerId: string): Egress;
}

export class EgressRedactor {
  private readonly key: string;

  constructor(private readonly opts: EgressOptions) {
    this.key = opts.hashKey ?? randomBytes(32).toString("hex");
  }

  /** Scans a request once; throws a 503 `ModelCallError` (SANITIZER_FAILED) when the sanitizer fails. */
  prepare(req: ChatRequest): PreparedEgress {
    const { payload, parsed } = payloadOf(req);
    const policy = this.opts.policy;
    const action = policy?.action === "hash" || policy?.action === "reversible" ? policy.action : "mask";
    const first = this.run(payload, { action, ...(action === "hash" ? { key: this.key } : {}) });
    const all = first.findings;
    const found = unique(all.map((f) => f.class));
    const listed = policy?.detectors ?? [];
    const covered = (f: Finding) =>
      policy !== undefined && (listed.includes(f.detector) || listed.includes(f.class));
    const asInput = (f: Finding): EgressFinding => ({
      class: f.class,
      detector: f.detector,
      path: f.path ?? "$",
    });
    const cache = new Map<string, Egress>();
    return {
      found,
      forProvider: (providerId) => {
        const known = cache.get(providerId);
        if (known) return known;
        const allowed = (cls: string) => policy?.allowed_providers[cls]?.includes(providerId) === true;
        const acted = all.filter((f) => covered(f) && !allowed(f.class));
        const toRedact = unique(acted.map((f) => f.class));
        const leaving = all.filter((f) => !toRedact.includes(f.class));
        let egress: Egress;
        if (toRedact.length === 0) {
          egress = {
            request: req,
            dataClasses: unique(leaving.map((f) => f.class)),
            findings: leaving.map(asInput),
          };
        } else if (policy?.action === "block") {
          egress = { blocked: toRedact };
        } else {
          const r =
            toRedact.length === found.length
              ? first
              : this.run(payload, {
                  action,
                  classes: toRedact,
                  ...(action === "hash" ? { key: this.key } : {}),
                });
          egress = {
            request: rebuild(req, r.value as Payload, parsed),
            dataClasses: unique(leaving.map((f) => f.class)),
            findings: leaving.map(asInput),
            ...(r.mapping && Object.keys(r.mapping).length > 0 ? { mapping: r.mapping } : {}),
          };
        }
        cache.set(providerId, egress);
        return egress;
      },
    };
  }

  private run(payload: Payload, opts: RedactOptions): Redaction {
    try {
      return this.opts.redact(payload, opts);
    } catch (e) {
      throw new ModelCallError(
        "GW_ERR_NATIVE",
        503,
        `the sanitizer failed; request refused: ${errorMessage(e)}`,
        {
          cause: e,
          details: {
            reasons: [{ code: "SANITIZER_FAILED", message: "The sanitizer failed; nothing was sent" }],
          },
        },
      );
    }
  }
}
