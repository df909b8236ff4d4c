/**
 * Approvals for ask_user decisions. An approval is bound to one principal, one tool and one
 * argument digest, and expires: a "yes" to `delete(path=a)` never authorises `delete(path=b)`, a
 * different caller, or the same call tomorrow. `ApprovalStore` is the interface the pipeline codes
 * against (async, so a shared Redis store can implement it); `InMemoryApprovalStore` is the
 * single-instance implementation.
 */
import { randomUUID } from "node:crypto";
import { type Clock, systemClock } from "../clock.js";
import { PortcullisError } from "../errors.js";

/** What an approval is bound to. `principal` is the principal's id. */
export interface ApprovalBinding {
  principal: string;
  tool: string;
  args_digest: string;
}

/**
 * How a granted approval may be used: "once" (default) admits exactly one call — the first
 * `check` that sees the grant consumes it; "ttl" admits every identical call until it expires.
 */
export type ApprovalReuse = "once" | "ttl";

export interface ApprovalRequest extends ApprovalBinding {
  /** What the person is asked (from the policy's `ask.prompt`). */
  prompt: string;
  /** Lifetime in seconds from the request, covering both the wait for an answer and any reuse. */
  ttl_s: number;
  reuse?: ApprovalReuse;
}

export type ApprovalState = "pending" | "granted" | "denied";

export interface Approval extends ApprovalBinding {
  id: string;
  prompt: string;
  reuse: ApprovalReuse;
  state: ApprovalState;
  created_at: string;
  expires_at: string;
  resolved_at?: string;
  resolved_by?: string;
  /** A "once" grant that admitted its call. */
  consumed?: boolean;
}

/** The answer `check` gives for a call: an unexpired grant, an unexpired refusal, or nothing. */
export type ApprovalStatus = "granted" | "denied" | "none";

export interface ApprovalStore {
  /** Records a pending approval and returns its id and expiry (RFC 3339). */
  request(req: ApprovalRequest): Promise<{ id: string; expires_at: string }>;
  /**
   * Records the person's answer. Throws GW_ERR_NOT_FOUND for an unknown or expired id, or one
   * already answered differently; answering the same way twice is harmless.
   */
  resolve(id: string, granted: boolean, by: string): Promise<Approval>;
  /** The latest unexpired answer for this exact binding; consumes a "once" grant. */
  check(binding: ApprovalBinding): Promise<ApprovalStatus>;
  /** One approval by id (expired ones are gone). */
  get(id: string): Promise<Approval | undefined>;
  /** Unexpired pending approvals, oldest first; optionally only one principal's. */
  pending(principal?: string): Promise<Approval[]>;
}

/** Longest lifetime an approval may ask for (one day). */
export const MAX_APPROVAL_TTL_S = 86_400;

export interface InMemoryApprovalStoreOptions {
  clock?: Clock;
  /** Unexpired approvals held at once; a request beyond this fails (GW_ERR_LIMIT). Default 10,000. */
  maxApprovals?: number;
}

function bindingKey(b: ApprovalBinding): string {
  return `${b.principal}\u0000${b.tool}\u0000${b.args_digest}`;
}

function requireText(value: unknown, field: string, max = 4096): string {
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw new PortcullisError(
      "GW_ERR_USAGE",
      `approval ${field} must be a non-empty string of at most ${max} characters`,
    );
  }
  return value;
}

/** Approvals held in this process; lost on restart (an unanswered ask simply asks again). */
export class InMemoryApprovalStore implements ApprovalStore {
  private readonly clock: Clock;
  private readonly maxApprovals: number;
  /** Insertion order = request order, which `check` relies on to find the latest answer. */
  private readonly byId = new Map<string, Approval>();
  private readonly byBinding = new Map<string, Approval[]>();

  constructor(opts: InMemoryApprovalStoreOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.maxApprovals = opts.maxApprovals ?? 10_000;
  }

  async request(req: ApprovalRequest): Promise<{ id: string; expires_at: string }> {
    const binding = {
      principal: requireText(req.principal, "principal", 256),
      tool: requireText(req.tool, "tool", 256),
      args_digest: requireText(req.args_digest, "args_digest", 128),
    };
    const prompt = requireText(req.prompt, "prompt");
    if (!Number.isFinite(req.ttl_s) || req.ttl_s <= 0 || req.ttl_s > MAX_APPROVAL_TTL_S) {
      throw new PortcullisError(
        "GW_ERR_USAGE",
        `approval ttl_s must be in (0, ${MAX_APPROVAL_TTL_S}], got ${req.ttl_s}`,
      );
    }
    const reuse = req.reuse ?? "once";
    if (reuse !== "once" && reuse !== "ttl") {
      throw new PortcullisError(
        "GW_ERR_USAGE",
        `approval reuse must be 'once' or 'ttl', got '${String(reuse)}'`,
      );
    }
    this.sweep();
    if (this.byId.size >= this.maxApprovals) {
      throw new PortcullisError("GW_ERR_LIMIT", `too many open approvals (${this.maxApprovals})`);
    }
    const now = this.clock.now();
    const approval: Approval = {
      ...binding,
      id: randomUUID(),
      prompt,
      reuse,
      state: "pending",
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + Math.round(req.ttl_s * 1000)).toISOString(),
    };
    this.byId.set(approval.id, approval);
    const key = bindingKey(binding);
    const list = this.byBinding.get(key);
    if (list) list.push(approval);
    else this.byBinding.set(key, [approval]);
    return { id: approval.id, expires_at: approval.expires_at };
  }

  async resolve(id: string, granted: boolean, by: string): Promise<Approval> {
    requireText(by, "resolver", 256);
    const approval = this.live(id);
    if (!approval)
      throw new PortcullisError("GW_ERR_NOT_FOUND", `no open approval '${id}' (unknown or expired)`);
    const state: ApprovalState = granted ? "granted" : "denied";
    if (approval.state !== "pending") {
      if (approval.state === state) return { ...approval };
      throw new PortcullisError("GW_ERR_NOT_FOUND", `approval '${id}' was already ${approval.state}`);
    }
    approval.state = state;
    approval.resolved_at = this.clock.now().toISOString();
    approval.resolved_by = by;
    return { ...approval };
  }

  async check(binding: ApprovalBinding): Promise<ApprovalStatus> {
    const list = this.byBinding.get(bindingKey(binding));
    if (!list) return "none";
    const now = this.clock.now().getTime();
    let latest: Approval | undefined;
    for (const a of list) {
      if (Date.parse(a.expires_at) <= now || a.state === "pending") continue;
      if (!latest || (a.resolved_at ?? "") >= (latest.resolved_at ?? "")) latest = a;
    }
    // A used one-shot grant answers nothing: the next identical call asks again.
    if (!latest || latest.consumed) return "none";
    if (latest.state === "granted" && latest.reuse === "once") latest.consumed = true;
    return latest.state === "granted" ? "granted" : "denied";
  }

  async get(id: string): Promise<Approval | undefined> {
    const a = this.live(id);
    return a ? { ...a } : undefined;
  }

  async pending(principal?: string): Promise<Approval[]> {
    this.sweep();
    return [...this.byId.values()]
      .filter((a) => a.state === "pending" && (principal === undefined || a.principal === principal))
      .map((a) => ({ ...a }));
  }

  private live(id: string): Approval | undefined {
    const a = this.byId.get(id);
    if (!a) return undefined;
    if (Date.parse(a.expires_at) <= this.clock.now().getTime()) {
      this.forget(a);
      return undefined;
    }
    return a;
  }

  /** Drops expired approvals (and consumed one-shot grants, which can never answer again). */
  private sweep(): void {
    const now = this.clock.now().getTime();
    for (const a of this.byId.values()) {
      if (a.consumed || Date.parse(a.expires_at) <= now) this.forget(a);
    }
  }

  private forget(a: Approval): void {
    this.byId.delete(a.id);
    const key = bindingKey(a);
    const list = this.byBinding.get(key)?.filter((x) => x !== a);
    if (list && list.length > 0) this.byBinding.set(key, list);
    else this.byBinding.delete(key);
  }
}
