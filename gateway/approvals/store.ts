/**
 * Approvals for ask_user decisions. An approval is bound to one principal, one tool and one
 * argument digest, and expires: a "yes" to `delete(path=a)` never authorises `delete(path=b)`, a
 * different caller, or the same call tomorrow. `ApprovalStore` is the interface the pipeline codes
 * against; `SharedApprovalStore` implements it once over the shared-state port (gateway/store), so
 * one process (`InMemoryApprovalStore`, a memory backend) and several instances sharing Redis run
 * the same code: an approval asked on one instance can be answered and used on any other, and a
 * one-shot grant admits exactly one call across all of them (the consume is a compare-and-swap).
 */
import { createHash, randomUUID } from "node:crypto";
import { type Clock, systemClock } from "../clock.js";
import { PortcullisError } from "../errors.js";
import { MemoryStore } from "../store/memory.js";
import type { SharedStore } from "../store/types.js";

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
  /**
   * Calls `listener` after any approval is requested or answered (on any instance sharing the
   * store), so waiting readers look again at once instead of on their next poll.
   */
  onChange?(listener: () => void): () => void;
}

const CHANGES = "approvals";

/** Longest lifetime an approval may ask for (one day). */
export const MAX_APPROVAL_TTL_S = 86_400;

export interface InMemoryApprovalStoreOptions {
  clock?: Clock;
  /** The shared state holding approvals (default: a private in-process store). */
  store?: SharedStore;
  /** Unexpired approvals held at once; a request beyond this fails (GW_ERR_LIMIT). Default 10,000. */
  maxApprovals?: number;
}

/** Store key of a binding's index: a digest, so any principal or tool name makes a safe key. */
function bindingKey(b: ApprovalBinding): string {
  const h = createHash("sha256").update(`${b.principal}\u0000${b.tool}\u0000${b.args_digest}`).digest("hex");
  return `approvals:binding:${h}`;
}

const PENDING = "approvals:pending";
const recordKey = (id: string) => `approval:${id}`;
/** Ids are UUIDs; anything else is unknown without asking the store. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function requireText(value: unknown, field: string, max = 4096): string {
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    throw new PortcullisError(
      "GW_ERR_USAGE",
      `approval ${field} must be a non-empty string of at most ${max} characters`,
    );
  }
  return value;
}

/** Approvals kept in a `SharedStore`: in this process, or in Redis for several instances. */
export class SharedApprovalStore implements ApprovalStore {
  private readonly clock: Clock;
  private readonly maxApprovals: number;
  private readonly store: SharedStore;

  constructor(store: SharedStore, opts: Omit<InMemoryApprovalStoreOptions, "store"> = {}) {
    this.store = store;
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
    if ((await this.store.indexSize(PENDING)) >= this.maxApprovals) await this.pending();
    if ((await this.store.indexSize(PENDING)) >= this.maxApprovals) {
      throw new PortcullisError("GW_ERR_LIMIT", `too many open approvals (${this.maxApprovals})`);
    }
    const now = this.clock.now();
    const ttlMs = Math.round(req.ttl_s * 1000);
    const approval: Approval = {
      ...binding,
      id: randomUUID(),
      prompt,
      reuse,
      state: "pending",
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ttlMs).toISOString(),
    };
    await this.store.set(recordKey(approval.id), JSON.stringify(approval), ttlMs);
    await this.store.indexAdd(bindingKey(binding), approval.id, now.getTime(), ttlMs);
    await this.store.indexAdd(PENDING, approval.id, now.getTime(), MAX_APPROVAL_TTL_S * 1000);
    await this.store.appendLog(CHANGES, approval.id, 100);
    return { id: approval.id, expires_at: approval.expires_at };
  }

  async resolve(id: string, granted: boolean, by: string): Promise<Approval> {
    requireText(by, "resolver", 256);
    const state: ApprovalState = granted ? "granted" : "denied";
    // Compare-and-swap: when another instance answers at the same moment, look again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const held = await this.load(id);
      if (!held)
        throw new PortcullisError("GW_ERR_NOT_FOUND", `no open approval '${id}' (unknown or expired)`);
      const { raw, approval } = held;
      if (approval.state !== "pending") {
        if (approval.state === state) return approval;
        throw new PortcullisError("GW_ERR_NOT_FOUND", `approval '${id}' was already ${approval.state}`);
      }
      const next: Approval = {
        ...approval,
        state,
        resolved_at: this.clock.now().toISOString(),
        resolved_by: by,
      };
      if (await this.store.swap(recordKey(id), raw, JSON.stringify(next), this.ttlOf(next))) {
        await this.store.indexRemove(PENDING, [id]);
        await this.store.appendLog(CHANGES, id, 100);
        return next;
      }
    }
    throw new PortcullisError("GW_ERR_INTERNAL", `approval '${id}' kept changing; try again`);
  }

  async check(binding: ApprovalBinding): Promise<ApprovalStatus> {
    const index = bindingKey(binding);
    for (let attempt = 0; attempt < 5; attempt++) {
      let latest: { raw: string; approval: Approval } | undefined;
      const gone: string[] = [];
      for (const [id, held] of await this.loadMany(await this.store.indexMembers(index))) {
        if (!held) {
          gone.push(id);
          continue;
        }
        const a = held.approval;
        if (a.state === "pending") continue;
        if (!latest || (a.resolved_at ?? "") >= (latest.approval.resolved_at ?? "")) latest = held;
      }
      if (gone.length > 0) await this.store.indexRemove(index, gone);
      // A used one-shot grant answers nothing: the next identical call asks again.
      if (!latest || latest.approval.consumed) return "none";
      if (latest.approval.state === "denied") return "denied";
      if (latest.approval.reuse === "ttl") return "granted";
      const used = { ...latest.approval, consumed: true };
      if (await this.store.swap(recordKey(used.id), latest.raw, JSON.stringify(used), this.ttlOf(used)))
        return "granted";
      // Another call (perhaps on another instance) consumed it first: look again.
    }
    return "none";
  }

  async get(id: string): Promise<Approval | undefined> {
    return (await this.load(id))?.approval;
  }

  onChange(listener: () => void): () => void {
    return this.store.onAppend((log) => {
      if (log === CHANGES) listener();
    });
  }

  async pending(principal?: string): Promise<Approval[]> {
    const out: Approval[] = [];
    const gone: string[] = [];
    for (const [id, held] of await this.loadMany(await this.store.indexMembers(PENDING))) {
      const a = held?.approval;
      if (a?.state !== "pending") gone.push(id);
      else if (principal === undefined || a.principal === principal) out.push(a);
    }
    if (gone.length > 0) await this.store.indexRemove(PENDING, gone);
    return out;
  }

  private ttlOf(a: Approval): number {
    return Math.max(1, Date.parse(a.expires_at) - this.clock.now().getTime());
  }

  /** The unexpired record of `id` with its raw text (the compare-and-swap operand). */
  private async load(id: string): Promise<{ raw: string; approval: Approval } | undefined> {
    if (typeof id !== "string" || !ID.test(id)) return undefined;
    return this.live(await this.store.get(recordKey(id)));
  }

  /** `load` of many ids in one store round trip. */
  private async loadMany(
    ids: readonly string[],
  ): Promise<Array<[string, { raw: string; approval: Approval } | undefined]>> {
    const valid = ids.filter((id) => ID.test(id));
    const raws = await this.store.getMany(valid.map(recordKey));
    return valid.map((id, i) => [id, this.live(raws[i])]);
  }

  private live(raw: string | undefined): { raw: string; approval: Approval } | undefined {
    if (raw === undefined) return undefined;
    const approval = JSON.parse(raw) as Approval;
    if (Date.parse(approval.expires_at) <= this.clock.now().getTime()) return undefined;
    return { raw, approval };
  }
}

/** Approvals held in this process; lost on restart (an unanswered ask simply asks again). */
export class InMemoryApprovalStore extends SharedApprovalStore {
  constructor(opts: InMemoryApprovalStoreOptions = {}) {
    super(opts.store ?? new MemoryStore(opts.clock ? { clock: opts.clock } : {}), opts);
  }
}
