/**
 * The model gateway: one model request from an authenticated principal, end to end. The request
 * is scanned once (redaction.ts); the route is picked with the data classes found; then, for each
 * target the router tries, the request as redacted for that provider is decided by the policy
 * (`model/call`, target `{kind: "model", name: <alias>, model, provider: {id, local}}`, the data
 * classes that would leave unredacted) and the decision record is made durable in the audit log
 * before a byte is sent; a denial (or a `block` redaction) only skips that target. Each target's
 * part ends with an outcome record (status, token usage, timings). `listModels` answers
 * `GET /v1/models` with the aliases the policy lets the principal see (`model/list`).
 */
import type { ChatRequest, ChatResponse, ChatStreamEvent } from "../../adapters/models/types.js";
import type { AuditEntry, AuditTarget } from "../../contracts/index.js";
import { digest } from "../../native/index.js";
import { type Clock, systemClock } from "../clock.js";
import { errorMessage, isPortcullisError } from "../errors.js";
import type { Decision, DecisionPort, PolicyInputDoc, Principal, Reason } from "../pipeline/context.js";
import type { AttemptReport } from "./attempts.js";
import { modelErrorBody } from "./failures.js";
import type { EgressRedactor } from "./redaction.js";
import { createStreamRestorer, restoreResponse } from "./restore.js";
import type { ModelRouter } from "./router.js";
import type { Admission, CallHooks, PlannedTarget } from "./router-types.js";

/** The audit log as the model path uses it (gateway/audit `AuditLog`). */
export interface ModelAuditPort {
  appendDecision(entry: AuditEntry): Promise<unknown>;
  appendWritten(entry: AuditEntry): Promise<unknown>;
}

export interface ModelGatewayDeps {
  router: ModelRouter;
  redactor: EgressRedactor;
  decisions: DecisionPort;
  audit: ModelAuditPort;
  clock?: Clock;
}

/** Who is calling and how; one per inbound request. */
export interface ModelCallContext {
  id: string;
  principal: Principal;
  transport: "stdio" | "http";
  session?: string;
  signal: AbortSignal;
  /** Filled in during the call: time spent waiting for providers (the rest is the gateway's). */
  stats?: { providerMs: number };
}

/** One entry of `GET /v1/models`. */
export interface ListedModel {
  id: string;
  route: string;
}

interface TargetRecord {
  base: Omit<AuditEntry, "kind">;
  policyMs: number;
}

export class ModelGateway {
  private readonly clock: Clock;

  constructor(private readonly deps: ModelGatewayDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  /** A non-streamed call; resolves with the answer in neutral form (placeholders restored). */
  async complete(req: ChatRequest, ctx: ModelCallContext): Promise<ChatResponse> {
    const call = await this.begin(req, ctx);
    try {
      return await this.deps.router.complete(call.plan, call.hooks, ctx.signal);
    } finally {
      await call.settled();
    }
  }

  /**
   * A streamed call. Resolves once the first token arrived (failures before it reject, so the
   * transport can still answer with an HTTP error); the generator then yields every event,
   * starting with the held start events, and ends with `done` or one `error` event.
   */
  async stream(req: ChatRequest, ctx: ModelCallContext): Promise<AsyncGenerator<ChatStreamEvent>> {
    const call = await this.begin(req, ctx);
    const gen = this.deps.router.stream(call.plan, call.hooks, ctx.signal);
    let first: IteratorResult<ChatStreamEvent>;
    try {
      first = await gen.next();
    } catch (e) {
      await call.settled();
      throw e;
    }
    return (async function* () {
      try {
        if (!first.done) yield first.value;
        yield* gen;
      } finally {
        await gen.return(undefined);
        await call.settled();
      }
    })();
  }

  /** The model names the principal may request (aliases of routes it matches), per the policy. */
  async listModels(
    principal: Principal,
    ctx: Omit<ModelCallContext, "principal" | "signal">,
  ): Promise<ListedModel[]> {
    const out: ListedModel[] = [];
    const seen = new Set<string>();
    for (const route of this.deps.router.routes) {
      const m = route.match;
      if (m.principals && !m.principals.includes(principal.id)) continue;
      if (m.roles && !m.roles.some((r) => principal.roles.includes(r))) continue;
      const names = m.models?.filter((n) => !n.endsWith("*")) ?? [];
      const candidates = names.length > 0 ? names : route.targets.map((t) => t.model);
      for (const name of candidates) {
        if (seen.has(name)) continue;
        for (const t of route.targets) {
          const provider = this.deps.router.providers.get(t.provider);
          const d = await this.decide("model/list", principal, ctx, {
            kind: "model",
            name,
            model: t.model,
            ...(provider ? { provider: { id: provider.config.id, local: provider.config.local } } : {}),
          });
          if (d.decision === "allow") {
            seen.add(name);
            out.push({ id: name, route: route.id });
            break;
          }
        }
      }
    }
    return out;
  }

  private decide(
    action: "model/call" | "model/list",
    principal: Principal,
    ctx: Omit<ModelCallContext, "principal" | "signal">,
    target: AuditTarget,
    dataClasses: string[] = [],
    findings?: PolicyInputDoc["findings"],
    args: Record<string, unknown> = {},
  ): Promise<Decision> {
    // The pipeline's PolicyTarget type predates model targets; the contract's PolicyTarget has them.
    const input = {
      v: 1,
      action,
      principal,
      target,
      arguments: args,
      data_classes: dataClasses,
      ...(findings && findings.length > 0 ? { findings } : {}),
      context: {
        time: this.clock.now().toISOString(),
        request_id: ctx.id,
        transport: ctx.transport,
        ...(ctx.session ? { session: ctx.session } : {}),
      },
    } as unknown as PolicyInputDoc;
    return this.deps.decisions.decide(input);
  }

  /**
   * Records a refusal that happened before any target was decided (the sanitizer failed, no route
   * matched) as a deny decision with the error's reasons, then rethrows it. The record is about
   * the requested model only; the digest is of the request's summary (nothing was redacted).
   */
  private async refuseBeforeTargets(
    e: unknown,
    ctx: ModelCallContext,
    model: string,
    summary: Record<string, unknown>,
  ): Promise<never> {
    const given = isPortcullisError(e) ? (e.details?.reasons as Reason[] | undefined) : undefined;
    const reasons: Reason[] =
      given && given.length > 0
        ? given
        : [{ code: "UNKNOWN_TARGET", message: `Model request refused: ${errorMessage(e).slice(0, 512)}` }];
    await this.deps.audit.appendDecision({
      v: 1,
      kind: "decision",
      id: `${ctx.id}.refused`,
      principal: ctx.principal,
      ...(ctx.session ? { session: ctx.session } : {}),
      target: { kind: "model", name: model },
      args_digest: digest(summary),
      decision: "deny",
      reasons,
    });
    throw e;
  }

  /** Scans, plans and builds the per-target hooks of one call. */
  private async begin(req: ChatRequest, ctx: ModelCallContext) {
    const summary = {
      stream: req.stream,
      messages: req.messages.length,
      ...(req.tools ? { tools: req.tools.map((t) => t.name) } : {}),
    };
    let prepared: ReturnType<EgressRedactor["prepare"]>;
    let plan: PlannedTarget[];
    try {
      prepared = this.deps.redactor.prepare(req);
      plan = this.deps.router.plan({
        model: req.model,
        principal: ctx.principal,
        dataClasses: prepared.found,
      });
    } catch (e) {
      return this.refuseBeforeTargets(e, ctx, req.model, summary);
    }
    const pending: Promise<unknown>[] = [];
    const records = new Map<PlannedTarget, TargetRecord>();
    let n = 0;
    const hooks: CallHooks = {
      sent: (ms) => {
        if (ctx.stats) ctx.stats.providerMs += ms;
      },
      admit: async (t): Promise<Admission> => {
        const egress = prepared.forProvider(t.provider.config.id);
        const target: AuditTarget = {
          kind: "model",
          name: req.model,
          model: t.target.model,
          provider: { id: t.provider.config.id, local: t.provider.config.local },
        };
        const started = performance.now();
        const blocked = "blocked" in egress;
        const decision: Decision = blocked
          ? {
              decision: "deny",
              reasons: [
                {
                  code: "SENSITIVE_DATA_BLOCKED",
                  message: `The redaction policy blocks ${egress.blocked.join(", ")} for provider ${t.provider.config.id}`,
                },
              ],
            }
          : await this.decide(
              "model/call",
              ctx.principal,
              ctx,
              target,
              egress.dataClasses,
              egress.findings,
              summary,
            );
        const policyMs = performance.now() - started;
        const base = {
          v: 1 as const,
          id: `${ctx.id}.${n++}`,
          principal: ctx.principal,
          ...(ctx.session ? { session: ctx.session } : {}),
          target,
          args_digest: digest(blocked ? summary : egress.request),
          decision: decision.decision,
          reasons: decision.reasons,
          ...(decision.revision ? { policy_revision: decision.revision } : {}),
          ...(decision.policy_hash ? { policy_hash: decision.policy_hash } : {}),
        };
        records.set(t, { base, policyMs });
        await this.deps.audit.appendDecision({ ...base, kind: "decision" });
        if (blocked || decision.decision !== "allow") {
          const reasons: Reason[] =
            decision.decision === "ask_user"
              ? [{ code: "APPROVAL_UNAVAILABLE", message: "Model calls cannot ask the user; denied" }]
              : decision.reasons;
          return { denied: reasons };
        }
        const mapping = egress.mapping;
        return {
          request: egress.request,
          ...(decision.obligations?.timeout_ms ? { timeoutMs: decision.obligations.timeout_ms } : {}),
          ...(mapping
            ? {
                restore: (r: ChatResponse) => restoreResponse(r, mapping),
                restoreStream: () => createStreamRestorer(mapping),
              }
            : {}),
        };
      },
      report: (r: AttemptReport) => {
        const rec = records.get(r.target);
        if (!rec) return; // passed over (breaker open): nothing was decided or sent
        const status = r.status === "unavailable" ? "error" : r.status;
        const error = r.error !== undefined ? modelErrorBody(r.error) : undefined;
        pending.push(
          this.deps.audit
            .appendWritten({
              ...rec.base,
              kind: "outcome",
              outcome: {
                status,
                ...(error
                  ? {
                      error: {
                        code: isPortcullisError(r.error) ? r.error.code : error.code,
                        message: error.message.slice(0, 4096),
                      },
                    }
                  : {}),
                ...(r.usage ? { usage: r.usage } : {}),
              },
              timings: { total_ms: r.ms + rec.policyMs, policy_ms: rec.policyMs, upstream_ms: r.ms },
            } as AuditEntry)
            .catch((e: unknown) => process.emitWarning(`model call outcome not audited: ${errorMessage(e)}`)),
        );
      },
    };
    return { plan, hooks, settled: () => Promise.all(pending).then(() => undefined) };
  }
}
