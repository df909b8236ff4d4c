/**
 * Approval routes. `GET /v1/approvals` lists pending approvals (an approver sees all, anyone else
 * only their own) and long-polls with `wait_s` until one newer than `after` (an RFC 3339 time) is
 * there; `GET /v1/approvals/{id}` shows one and long-polls with `wait_s` until it is answered;
 * `POST /v1/approvals/{id}` `{ "decision": "approve" | "deny" }` answers it. Who may answer is the
 * policy's decision (action `approvals/resolve`: an authenticated holder of one of
 * `settings.approvals.approver_roles`, never the principal who asked); a refusal is a 403 problem
 * carrying the policy's reason codes (SELF_APPROVAL_FORBIDDEN, APPROVER_NOT_PERMITTED, ...). Either
 * way the approver decision is audited as an `admin` record; an accepted answer goes through
 * `pipeline.answerApproval` (store + `approval.resolved` session event) and its record carries
 * APPROVAL_GRANTED / APPROVAL_DENIED beside the policy's reasons.
 */
import { randomUUID } from "node:crypto";
import type { Context } from "hono";
import { z } from "zod";
import type { Approval, ApprovalStore } from "../../gateway/approvals/index.js";
import type { AuditLog } from "../../gateway/audit/index.js";
import type { DecisionPort, PolicyInputDoc, Principal } from "../../gateway/pipeline/context.js";
import type { Pipeline } from "../../gateway/pipeline/pipeline.js";
import { type Env, type GateOptions, readJsonBody } from "./gate.js";
import { problem, problemResponse, RestError } from "./problem.js";
import { ApprovalList, approvalView } from "./responses.js";

export interface ApprovalDeps {
  pipeline: Pipeline;
  approvals: ApprovalStore;
  auditLog: AuditLog;
  /** The decision service that decides `approvals/resolve` (who may answer). */
  decisions: DecisionPort;
  gate: GateOptions;
  approverRoles: readonly string[];
  /** Session of a pending approval asked through REST, if any. */
  sessionOf(approvalId: string): Promise<string | undefined>;
  /**
   * Poll interval of the long-polls (ms); a store that announces changes (`onChange`) wakes them
   * at once, so this is only the fallback.
   */
  pollMs: number;
}

const MAX_WAIT_S = 60;
export const AnswerBody = z.strictObject({ decision: z.enum(["approve", "deny"]) });

function waitSeconds(c: Context<Env>): number {
  const raw = c.req.query("wait_s");
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > MAX_WAIT_S)
    throw new RestError("GW_ERR_USAGE", `wait_s must be a number of seconds in [0, ${MAX_WAIT_S}]`);
  return n;
}

const isApprover = (p: Principal, roles: readonly string[]) => p.roles.some((r) => roles.includes(r));

/**
 * Probes until `probe` yields a value or the wait (or the request) ends: again after every change
 * the store announces, and at least every `pollMs`.
 */
async function poll<T>(
  probe: () => Promise<T | undefined>,
  waitS: number,
  d: Pick<ApprovalDeps, "pollMs" | "approvals">,
  signal: AbortSignal,
) {
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    const v = await probe();
    if (v !== undefined || Date.now() >= deadline || signal.aborted) return v;
    await new Promise<void>((done) => {
      const finish = () => {
        clearTimeout(timer);
        off?.();
        signal.removeEventListener("abort", finish);
        done();
      };
      const timer = setTimeout(finish, Math.min(d.pollMs, Math.max(0, deadline - Date.now())));
      const off = d.approvals.onChange?.(finish);
      signal.addEventListener("abort", finish, { once: true });
    });
  }
}

const view = approvalView;

export async function listApprovalsRoute(c: Context<Env>, d: ApprovalDeps): Promise<Response> {
  const principal = c.get("principal");
  const waitS = waitSeconds(c);
  const after = c.req.query("after");
  if (after !== undefined && Number.isNaN(Date.parse(after)))
    throw new RestError("GW_ERR_USAGE", "after must be an RFC 3339 time");
  const scope = isApprover(principal, d.approverRoles) ? undefined : principal.id;
  const fresh = async () => {
    const list = (await d.approvals.pending(scope)).filter((a) => !after || a.created_at > after);
    return list.length > 0 ? list : undefined;
  };
  const list = (await poll(fresh, waitS, d, c.req.raw.signal)) ?? [];
  return c.json(ApprovalList.parse({ approvals: list.map(view) }));
}

async function visibleApproval(c: Context<Env>, d: ApprovalDeps): Promise<Approval> {
  const id = c.req.param("id") ?? "";
  const a = await d.approvals.get(id);
  const principal = c.get("principal");
  if (!a || (a.principal !== principal.id && !isApprover(principal, d.approverRoles)))
    throw new RestError("GW_ERR_NOT_FOUND", `no open approval '${id}' (unknown or expired)`);
  return a;
}

export async function getApprovalRoute(c: Context<Env>, d: ApprovalDeps): Promise<Response> {
  const a = await visibleApproval(c, d);
  const waitS = waitSeconds(c);
  const answered = async () => {
    const now = await d.approvals.get(a.id);
    return now?.state === "pending" ? undefined : (now ?? a);
  };
  const done = waitS > 0 ? await poll(answered, waitS, d, c.req.raw.signal) : undefined;
  return c.json(view(done ?? (await d.approvals.get(a.id)) ?? a));
}

/** The policy input of an approver's answer (contract action `approvals/resolve`). */
function resolveInput(approver: Principal, a: Approval, granted: boolean): PolicyInputDoc {
  return {
    v: 1,
    // The pipeline's action type lists the call and list actions; the contract has this one too.
    action: "approvals/resolve" as PolicyInputDoc["action"],
    principal: approver,
    target: { kind: "tool", name: a.tool },
    arguments: { approval_id: a.id, requester: a.principal, granted },
    data_classes: [],
    context: { time: new Date().toISOString(), request_id: randomUUID(), transport: "http" },
  };
}

export async function answerApprovalRoute(c: Context<Env>, d: ApprovalDeps): Promise<Response> {
  const principal = c.get("principal");
  const parsed = AnswerBody.safeParse(await readJsonBody(c, d.gate));
  if (!parsed.success)
    throw new RestError("GW_ERR_USAGE", 'answer with {"decision": "approve"} or {"decision": "deny"}');
  const id = c.req.param("id") ?? "";
  const a = await d.approvals.get(id);
  if (!a) throw new RestError("GW_ERR_NOT_FOUND", `no open approval '${id}' (unknown or expired)`);
  const granted = parsed.data.decision === "approve";
  const decision = await d.decisions.decide(resolveInput(principal, a, granted));
  const session = await d.sessionOf(a.id);
  const record = {
    v: 1 as const,
    id: a.id,
    kind: "admin" as const,
    principal,
    ...(session ? { session } : {}),
    target: { kind: "tool" as const, name: a.tool },
    args_digest: a.args_digest,
    ...(decision.revision ? { policy_revision: decision.revision } : {}),
    ...(decision.policy_hash ? { policy_hash: decision.policy_hash } : {}),
  };
  const reasons = decision.reasons.map((r) => ({ code: r.code, message: r.message }));
  if (decision.decision !== "allow") {
    await d.auditLog.appendWritten({ ...record, decision: "deny", reasons });
    const codes = reasons.map((r) => r.code).join(", ") || "DEFAULT_DENY";
    return problemResponse(
      problem("GW_ERR_FORBIDDEN", `${principal.id} may not answer approval '${a.id}' (${codes})`, {
        reasons,
      }),
    );
  }
  if (a.state !== "pending" && a.state !== (granted ? "granted" : "denied"))
    throw new RestError("GW_ERR_CONFLICT", `approval '${a.id}' was already ${a.state}`);
  await d.pipeline.answerApproval(a.id, granted, principal.id, session);
  await d.auditLog.appendWritten({
    ...record,
    decision: granted ? "allow" : "deny",
    reasons: [
      ...reasons,
      granted
        ? { code: "APPROVAL_GRANTED", message: `approved by ${principal.id} for ${a.principal}` }
        : { code: "APPROVAL_DENIED", message: `declined by ${principal.id} for ${a.principal}` },
    ],
  });
  return c.json(view((await d.approvals.get(a.id)) ?? a));
}
