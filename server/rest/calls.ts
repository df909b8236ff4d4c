/**
 * `GET /v1/tools` and `POST /v1/tools/{name}/call`. Both go through the one pipeline: the list is
 * the pipeline's policy-filtered list for the caller; a call is `pipeline.callTool` with the
 * caller's principal, so authentication, resolution, decision, ask_user, audit and execution are
 * the same as over MCP. The REST caller is an asynchronous approval channel: an ask_user decision
 * leaves a pending approval (the pipeline's input-required path) and the answer is a
 * `pending_approval` result naming it; the caller retries the identical call once it is approved.
 * With `Accept: text/event-stream` the call streams `progress` and `session` events, then `result`.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { ApprovalStore } from "../../gateway/approvals/index.js";
import type { SessionEventFeed } from "../../gateway/events/index.js";
import type { CallContext, Principal } from "../../gateway/pipeline/context.js";
import type { Pipeline } from "../../gateway/pipeline/pipeline.js";
import type { ClientChannel, ProgressUpdate } from "../../gateway/registry/source.js";
import { type Env, type GateOptions, readJsonBody } from "./gate.js";
import { problemOf, RestError } from "./problem.js";
import { toolList } from "./responses.js";

export const CallBody = z.strictObject({
  arguments: z.record(z.string(), z.unknown()).default({}),
  session: z.string().min(1).max(256).optional(),
});

/** The REST result of one call (the contracts' ToolCallResult, plus the approval when pending). */
export interface RestCallResult {
  v: 1;
  id: string;
  tool: string;
  status: NonNullable<CallContext["status"]>;
  content: CallToolResult["content"];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  reasons?: { code: string; message: string }[];
  approval?: { id: string; prompt: string; expires_at?: string; url: string };
  timings: { total_ms: number; policy_ms?: number; upstream_ms?: number };
}

const HTTP_STATUS: Record<string, number> = {
  ok: 200,
  error: 200,
  pending_approval: 202,
  denied: 403,
  timeout: 504,
  cancelled: 499,
};

export interface CallDeps {
  pipeline: Pipeline;
  approvals: ApprovalStore;
  bus: SessionEventFeed;
  gate: GateOptions;
  /** Claims a session for a principal; rejects with GW_ERR_FORBIDDEN when another owns it. */
  claimSession(session: string, principal: string): Promise<void>;
  /** Remembers which session a pending approval belongs to (for approval.resolved events). */
  onPending(approvalId: string, session: string | undefined): Promise<void>;
}

/**
 * The channel the REST caller offers the pipeline: no live elicitation, but a queue the person
 * answers later (the pipeline's 2026-era pending path), and progress notifications.
 */
function restChannel(onProgress: ((u: ProgressUpdate) => void) | undefined): ClientChannel {
  return {
    era: "2026-07-28",
    capabilities: { elicitation: { form: {} } },
    async notify(n) {
      if (n.method === "notifications/progress" && onProgress) {
        const p = n.params as { progress: number; total?: number; message?: string };
        onProgress({
          progress: p.progress,
          ...(p.total !== undefined ? { total: p.total } : {}),
          ...(p.message ? { message: p.message } : {}),
        });
      }
    },
  };
}

async function runCall(
  d: CallDeps,
  principal: Principal,
  name: string,
  body: z.infer<typeof CallBody>,
  signal: AbortSignal,
  onProgress?: (u: ProgressUpdate) => void,
): Promise<RestCallResult> {
  const started = performance.now();
  const { ctx, result } = await d.pipeline.callTool({
    name,
    arguments: body.arguments,
    credentials: { kind: "http" },
    principal,
    transport: "http",
    signal,
    client: restChannel(onProgress),
    ...(body.session ? { session: body.session } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
  const status = ctx.status ?? "error";
  const out: RestCallResult = {
    v: 1,
    id: ctx.id,
    tool: name,
    status,
    content: result?.content ?? [],
    ...(result?.structuredContent ? { structuredContent: result.structuredContent } : {}),
    ...(result?.isError ? { isError: true } : {}),
    ...(ctx.decision
      ? { reasons: ctx.decision.reasons.map((r) => ({ code: r.code, message: r.message })) }
      : {}),
    timings: {
      total_ms: performance.now() - started,
      ...(ctx.policyMs !== undefined ? { policy_ms: ctx.policyMs } : {}),
      ...(ctx.upstreamMs !== undefined ? { upstream_ms: ctx.upstreamMs } : {}),
    },
  };
  if (ctx.pendingApproval) {
    const a = await d.approvals.get(ctx.pendingApproval.id);
    await d.onPending(ctx.pendingApproval.id, body.session);
    out.approval = {
      id: ctx.pendingApproval.id,
      prompt: ctx.pendingApproval.prompt,
      ...(a ? { expires_at: a.expires_at } : {}),
      url: `/v1/approvals/${encodeURIComponent(ctx.pendingApproval.id)}`,
    };
    out.content = [
      {
        type: "text",
        text: `Approval needed: ${ctx.pendingApproval.prompt} (approval ${ctx.pendingApproval.id}); retry the same call once it is approved.`,
      },
    ];
  }
  return out;
}

export function httpStatusOf(status: string): number {
  return HTTP_STATUS[status] ?? 500;
}

/** A call refused because the shared store is down is a 503 (retry later), not a policy 403. */
function httpStatusOfResult(out: RestCallResult): number {
  if (out.status === "denied" && out.reasons?.some((r) => r.code === "STORE_UNAVAILABLE")) return 503;
  return httpStatusOf(out.status);
}

export async function listToolsRoute(c: Context<Env>, d: CallDeps): Promise<Response> {
  const tools = await d.pipeline.listTools({
    credentials: { kind: "http" },
    principal: c.get("principal"),
    transport: "http",
  });
  return c.json(toolList(tools));
}

export async function callToolRoute(c: Context<Env>, d: CallDeps): Promise<Response> {
  const name = c.req.param("name") ?? "";
  const parsed = CallBody.safeParse(await readJsonBody(c, d.gate));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RestError("GW_ERR_USAGE", `call body '${issue.path.join(".") || "(root)"}': ${issue.message}`);
  }
  const body = parsed.data;
  const principal = c.get("principal");
  if (body.session) await d.claimSession(body.session, principal.id);
  const signal = c.req.raw.signal;
  if (!(c.req.header("accept") ?? "").includes("text/event-stream")) {
    const out = await runCall(d, principal, name, body, signal);
    return c.json(out, httpStatusOfResult(out) as 200);
  }
  return streamSSE(c, async (stream) => {
    let id = 0;
    const send = (event: string, data: unknown) =>
      void stream.writeSSE({ event, data: JSON.stringify(data), id: String(++id) }).catch(() => {});
    const unsubscribe = body.session ? d.bus.subscribe(body.session, (e) => send("session", e)) : () => {};
    try {
      const out = await runCall(d, principal, name, body, signal, (u) => send("progress", u));
      await stream.writeSSE({ event: "result", data: JSON.stringify(out), id: String(++id) });
    } catch (e) {
      await stream.writeSSE({ event: "error", data: JSON.stringify(problemOf(e)), id: String(++id) });
    } finally {
      unsubscribe();
    }
  });
}
