/**
 * The CallContext every pipeline stage reads and extends, and the ports the pipeline needs from the
 * rest of Portcullis (decision service, audit log, pins, approvals, session events, sanitizer).
 * Ports are structural so the pipeline depends on behaviour, not on modules: the composition root
 * passes the real services, and no HTTP framework or transport type appears here.
 */
import type {
  CallToolResult,
  ElicitRequest,
  GetPromptResult,
  ReadResourceResult,
  Tool,
} from "@modelcontextprotocol/sdk/types.js";
import type {
  AbortState,
  CapabilitySource,
  ClientChannel,
  ProgressUpdate,
  TaskEnd,
} from "../registry/source.js";

export type Via = "stdio" | "api_key" | "jwt" | "anonymous";

export interface Principal {
  id: string;
  roles: string[];
  authenticated: boolean;
  via: Via;
}

/** What the transport knows about the caller before authentication. */
export type Credentials = { kind: "stdio" } | { kind: "http"; bearer?: string; loopbackPeer?: boolean };

export type CallAction = "tools/call" | "prompts/get" | "resources/read";
export type ListAction = "tools/list" | "prompts/list" | "resources/list";
export type PolicyAction = CallAction | ListAction;

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface PolicyTarget {
  kind: "tool" | "prompt" | "resource";
  name: string;
  server?: string;
  annotations?: ToolAnnotations;
  definition_hash?: string;
  changed?: boolean;
}

/** The policy input document (contracts' `PolicyInput`, v1). */
export interface PolicyInputDoc {
  v: 1;
  action: PolicyAction;
  principal: Principal;
  target: PolicyTarget;
  arguments: Record<string, unknown>;
  data_classes: string[];
  findings?: Array<{ class: string; detector: string; path: string }>;
  context: { time: string; request_id: string; transport: "stdio" | "http"; session?: string };
}

export interface Reason {
  code: string;
  message: string;
}

/** A decision as the decision service returns it (contracts' `PolicyDecision` plus its stamp). */
export interface Decision {
  decision: "allow" | "deny" | "ask_user";
  reasons: Reason[];
  obligations?: {
    redact?: string[];
    audit_level?: "minimal" | "standard" | "full";
    timeout_ms?: number;
    rate_limit?: { limit: number; window_s: number };
  };
  ask?: { prompt: string; ttl_s: number };
  decision_id?: string;
  revision?: string;
  policy_hash?: string;
}

export interface DecisionPort {
  decide(input: PolicyInputDoc): Promise<Decision>;
  /**
   * The same decision without a promise, for services that never wait (the in-process policy
   * service and wrappers over it). The pipeline prefers it: a call then reaches its decision
   * record without a turn of the microtask queue. Absent on ports that may wait (a rate limiter
   * over a shared store).
   */
  decideSync?(input: PolicyInputDoc): Decision;
}

/** An audit record before the log numbers and chains it. */
export interface AuditRecord {
  v: 1;
  id: string;
  kind: "decision" | "outcome";
  principal: Principal;
  session?: string;
  target: PolicyTarget;
  args_digest: string;
  args_redacted?: unknown;
  decision?: Decision["decision"];
  reasons?: Reason[];
  outcome?: { status: CallStatus; error?: { code: string; message: string }; result_digest?: string };
  timings?: { total_ms: number; policy_ms?: number; upstream_ms?: number };
  policy_revision?: string;
  policy_hash?: string;
  context_hash?: string;
}

/** The audit log (gateway/audit `AuditLog`). */
export interface AuditPort {
  /** Resolves once the record is as durable as the sync mode promises before execution. */
  appendDecision(record: AuditRecord): Promise<unknown>;
  /** Resolves once the record is written (survives a crash of this process). */
  appendWritten(record: AuditRecord): Promise<unknown>;
  /**
   * `appendDecision` done before returning where the sync mode allows (true), else nothing done
   * (false: await `appendDecision`). Throws what `appendDecision` would reject with. Optional:
   * the pipeline then saves a turn of the microtask queue before execution.
   */
  appendDecisionNow?(record: AuditRecord): boolean;
  /** `appendWritten` done before returning; throws what it would reject with. Optional. */
  appendWrittenNow?(record: AuditRecord): unknown;
}

export interface PinPort {
  check(tool: string, definition: unknown): { hash: string; changed: boolean; pinned: boolean };
  /**
   * `check` with the definition hash the caller already holds (digest of the pinned definition,
   * as `check` would compute it); the per-call path uses it so nothing is re-hashed per call.
   */
  checkHash?(tool: string, hash: string): { hash: string; changed: boolean; pinned: boolean };
}

export interface ApprovalPort {
  request(req: {
    principal: string;
    tool: string;
    args_digest: string;
    prompt: string;
    ttl_s: number;
  }): { id: string; expires_at: string } | Promise<{ id: string; expires_at: string }>;
  resolve(id: string, granted: boolean, by: string): unknown;
  check(req: {
    principal: string;
    tool: string;
    args_digest: string;
  }): "granted" | "denied" | "none" | Promise<"granted" | "denied" | "none">;
}

export interface EventPort {
  publish(session: string, kind: string, data: unknown): unknown;
}

export interface Finding {
  class: string;
  detector: string;
  path?: string;
}

/** The sanitizer: findings in a JSON value (data classes such as "secret", "pii"). */
export type ScanPort = (value: unknown) => Finding[];

export type CallStatus = "ok" | "error" | "denied" | "pending_approval" | "timeout" | "cancelled";

export type CallOutcome =
  | { kind: "tool"; result: CallToolResult }
  | { kind: "prompt"; result: GetPromptResult }
  | { kind: "resource"; result: ReadResourceResult };

/** One call travelling through the pipeline. */
export interface CallContext {
  /** Request id (also the audit record id). */
  id: string;
  action: CallAction;
  /** Qualified tool / prompt name, or resource URI. */
  name: string;
  arguments: Record<string, unknown>;
  credentials: Credentials;
  transport: "stdio" | "http";
  session?: string;
  signal: AbortSignal;
  /** The call's abort state (`signal` is its signal); set by the pipeline, absent in hand-made contexts. */
  abort?: AbortState;
  client?: ClientChannel;
  onProgress?: (update: ProgressUpdate) => void;
  meta?: Record<string, unknown>;
  /**
   * Given by a transport that writes the call's reply itself: work nobody waits on (the
   * `call.completed` event) is handed here and run right after the reply is written, off the
   * caller's latency. Without it that work runs at once, before the call resolves.
   */
  afterReply?: (task: () => void) => void;
  startedAt: number;
  // Filled in by the stages:
  principal?: Principal;
  source?: CapabilitySource;
  /** The name the source knows the target by. */
  sourceName?: string;
  definition?: Tool;
  target?: PolicyTarget;
  argsDigest?: string;
  decision?: Decision;
  policyMs?: number;
  upstreamMs?: number;
  status?: CallStatus;
  outcome?: CallOutcome;
  error?: unknown;
  decisionRecorded?: boolean;
  /** Set when the result is a task handle the client adopted: the outcome record waits for it. */
  taskEnd?: Promise<TaskEnd>;
  /** Set by ask_user for 2026-era clients: the transport answers with an input-required result. */
  pendingApproval?: { id: string; prompt: string; form: ElicitRequest["params"] };
  /** Digest of the policy input, stored in the audit record. */
  inputHash?: string;
}

export type Next = () => Promise<void>;
/** A pipeline stage: hono-style middleware over the CallContext. */
export type Stage = (ctx: CallContext, next: Next) => Promise<void>;
