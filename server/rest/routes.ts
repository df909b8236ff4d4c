/**
 * The REST API of the HTTP gateway as one hono sub-app (`createRestRoutes`), mounted by
 * `createApp` beside `/mcp`: tools and calls (calls.ts), approvals (approvals.ts), session events
 * as SSE resumable by `Last-Event-ID`, audit query and verification, readiness and Prometheus
 * metrics, and the policy admin routes of policies/bundle/http.ts (bundle push, status) behind the
 * REST authentication plus an admin-role check. Routes only translate HTTP: every call goes
 * through the pipeline, every error leaves as `application/problem+json` with a stable code.
 */
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { ApprovalStore } from "../../gateway/approvals/index.js";
import { type AuditLog, verifyAudit } from "../../gateway/audit/index.js";
import type { SessionEventFeed } from "../../gateway/events/index.js";
import type { DecisionPort } from "../../gateway/pipeline/context.js";
import { MemoryStore, type SharedStore } from "../../gateway/store/index.js";
import type { BundleActivator } from "../../policies/bundle/activator.js";
import type { DecisionLogger } from "../../policies/bundle/decision-log.js";
import { createPolicyAdminRoutes } from "../../policies/bundle/http.js";
import { missingScope, scopeFor } from "../auth/scopes.js";
import type { Runtime } from "../runtime.js";
import { answerApprovalRoute, getApprovalRoute, listApprovalsRoute } from "./approvals.js";
import { parseAuditQuery, queryAudit } from "./audit-query.js";
import { callToolRoute, listToolsRoute } from "./calls.js";
import { authenticateRequest, type Env, type GateOptions } from "./gate.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { mountOpenApi } from "./openapi.js";
import { asProblem, problem, problemOf, problemResponse, RestError } from "./problem.js";
import { SessionDirectory } from "./sessions.js";

export interface RestDeps {
  runtime: Runtime;
  approvals: ApprovalStore;
  bus: SessionEventFeed;
  auditLog: AuditLog;
  decisions: DecisionPort;
  /** Roles whose holders may answer approvals and read every session and the whole audit log. */
  approverRoles?: readonly string[];
  /** When given, `PUT /v1/policy/bundle`, `GET /v1/policy/status` and `/v1/policy/metrics` are mounted. */
  policy?: { activator: BundleActivator; decisionLog?: DecisionLogger };
  /** Roles whose holders may administer policy (push bundles, read status); default `admin`. */
  adminRoles?: readonly string[];
  verifyToken?: GateOptions["verifyToken"];
  /** Scopes of stored API keys (server/auth/scopes.ts); without it every key is unrestricted. */
  keyScopes?: GateOptions["keyScopes"];
  challenge?: GateOptions["challenge"];
  /** Long-poll interval (ms); default 100. */
  pollMs?: number;
  /**
   * Shared state for session ownership and approval sessions, checked by `/readyz` (the services'
   * store; default: a private in-process one).
   */
  store?: SharedStore;
}

export interface RestRoutes {
  app: Hono<Env>;
  metrics: Metrics;
  close(): void;
}

const MAX_LAST_EVENT_ID = Number.MAX_SAFE_INTEGER;

export function createRestRoutes(deps: RestDeps): RestRoutes {
  const { runtime } = deps;
  const s = runtime.config.server;
  const approverRoles = deps.approverRoles ?? ["admin", "approver"];
  const gate: GateOptions = {
    pipeline: runtime.pipeline,
    maxBodyBytes: s.maxBodyBytes,
    maxJsonDepth: s.maxJsonDepth,
    allowedOrigins: s.allowedOrigins,
    allowedHosts: s.allowedHosts,
    ...(deps.verifyToken ? { verifyToken: deps.verifyToken } : {}),
    ...(deps.keyScopes ? { keyScopes: deps.keyScopes } : {}),
    ...(deps.challenge ? { challenge: deps.challenge } : {}),
  };
  const metrics = createMetrics({ auditDir: deps.auditLog.dir, upstreams: () => runtime.pool.health() });
  const store = deps.store ?? new MemoryStore();
  const sessions = new SessionDirectory(store);
  const isApprover = (roles: string[]) => roles.some((r) => approverRoles.includes(r));

  const app = new Hono<Env>();
  app.onError((e) => problemResponse(problemOf(e)));

  app.get("/readyz", async (c) => {
    let policy = false;
    try {
      const d = await deps.decisions.decide({
        v: 1,
        action: "tools/list",
        principal: { id: "readyz", roles: [], authenticated: false, via: "anonymous" },
        target: { kind: "tool", name: "readyz" },
        arguments: {},
        data_classes: [],
        context: { time: new Date().toISOString(), request_id: randomUUID(), transport: "http" },
      });
      policy = !d.reasons.some((r) => r.code === "POLICY_ERROR");
    } catch {
      policy = false;
    }
    const audit = metrics.auditErrors() === 0;
    const shared = await store.status();
    const ready = policy && audit && shared.ok;
    return c.json(
      { ready, checks: { policy, audit, store: shared, upstreams: runtime.pool.health() } },
      ready ? 200 : 503,
    );
  });

  mountOpenApi(app);

  app.get("/metrics", (c) =>
    c.body(metrics.render(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }),
  );

  app.use("/v1/*", async (c, next) => {
    const p = await authenticateRequest(c, gate);
    if (p instanceof Response) return p;
    c.set("principal", p);
    const missing = missingScope(c.get("scopes"), scopeFor(c.req.method, c.req.path));
    if (missing)
      return problemResponse(
        problem("GW_ERR_FORBIDDEN", `this credential lacks the scope '${missing}'`, { scope: missing }),
      );
    await next();
  });

  if (deps.policy) {
    const adminRoles = deps.adminRoles ?? ["admin"];
    /** Requests this gate admitted; the admin sub-app's `authorize` accepts exactly these. */
    const admitted = new WeakSet<Request>();
    app.use("/v1/policy/*", async (c, next) => {
      const me = c.get("principal");
      if (!me.roles.some((r) => adminRoles.includes(r)))
        throw new RestError("GW_ERR_FORBIDDEN", "policy administration needs one of the admin roles");
      admitted.add(c.req.raw);
      await next();
      // The admin routes answer `{error: {code, message}}`; every REST error is a problem.
      c.res = await asProblem(c.res);
    });
    app.route(
      "/",
      createPolicyAdminRoutes({
        activator: deps.policy.activator,
        authorize: (req) => admitted.has(req),
        ...(runtime.config.policy.source
          ? { maxBundleBytes: runtime.config.policy.source.limits.maxCompressedBytes }
          : {}),
        ...(deps.policy.decisionLog ? { decisionLog: deps.policy.decisionLog } : {}),
      }),
    );
  }

  const callDeps = {
    pipeline: runtime.pipeline,
    approvals: deps.approvals,
    bus: deps.bus,
    gate,
    claimSession: (session: string, principal: string) => sessions.claim(session, principal),
    onPending: async (id: string, session: string | undefined) => {
      if (session) await sessions.rememberApproval(id, session);
    },
  };
  app.get("/v1/tools", (c) => listToolsRoute(c, callDeps));
  app.post("/v1/tools/:name/call", (c) => callToolRoute(c, callDeps));

  const approvalDeps = {
    pipeline: runtime.pipeline,
    approvals: deps.approvals,
    auditLog: deps.auditLog,
    decisions: deps.decisions,
    gate,
    approverRoles,
    sessionOf: (id: string) => sessions.sessionOfApproval(id),
    pollMs: deps.pollMs ?? (deps.approvals.onChange ? 1000 : 100),
  };
  app.get("/v1/approvals", (c) => listApprovalsRoute(c, approvalDeps));
  app.get("/v1/approvals/:id", (c) => getApprovalRoute(c, approvalDeps));
  app.post("/v1/approvals/:id", (c) => answerApprovalRoute(c, approvalDeps));

  app.get("/v1/sessions/:id/events", async (c) => {
    const session = c.req.param("id");
    const me = c.get("principal");
    if (!isApprover(me.roles) && (await sessions.ownerOf(session)) !== me.id)
      return problemResponse(problem("GW_ERR_NOT_FOUND", `no session '${session}' of yours`));
    const raw = c.req.header("last-event-id") ?? c.req.query("after") ?? "0";
    const last = Number(raw);
    if (!Number.isSafeInteger(last) || last < 0 || last > MAX_LAST_EVENT_ID)
      return problemResponse(problem("GW_ERR_USAGE", "Last-Event-ID must be a non-negative integer"));
    const follow = c.req.query("follow") !== "false";
    // Subscribe first, then replay: events published in between are buffered, not lost. The
    // replay is read before the stream opens, so a store that is down is a 503 problem.
    const buffered: import("../../contracts/index.js").SessionEvent[] = [];
    let live: ((e: (typeof buffered)[number]) => void) | undefined;
    const unsubscribe = follow
      ? deps.bus.subscribe(session, (e) => (live ? live(e) : buffered.push(e)))
      : () => {};
    let replay: typeof buffered;
    try {
      replay = await deps.bus.since(session, last);
    } catch (e) {
      unsubscribe();
      throw e;
    }
    return streamSSE(c, async (stream) => {
      let sent = last;
      const send = async (e: (typeof buffered)[number]) => {
        if (e.seq <= sent) return;
        sent = e.seq;
        await stream.writeSSE({ id: String(e.seq), event: e.kind, data: JSON.stringify(e) });
      };
      try {
        for (const e of replay) await send(e);
        if (!follow) return;
        for (const e of buffered.splice(0)) await send(e);
        live = (e) => void send(e).catch(() => {});
        await new Promise<void>((done) => {
          if (c.req.raw.signal.aborted) return done();
          c.req.raw.signal.addEventListener("abort", () => done(), { once: true });
          stream.onAbort(() => done());
        });
      } finally {
        unsubscribe();
      }
    });
  });

  app.get("/v1/audit", async (c) => {
    const me = c.get("principal");
    const q = parseAuditQuery(c.req.query());
    if (!isApprover(me.roles)) {
      if (q.principal !== undefined && q.principal !== me.id)
        throw new RestError("GW_ERR_FORBIDDEN", "only approvers may read other principals' records");
      q.principal = me.id;
    }
    return c.json(await queryAudit(deps.auditLog.dir, q));
  });

  app.get("/v1/audit/verify", async (c) => {
    if (!isApprover(c.get("principal").roles))
      throw new RestError("GW_ERR_FORBIDDEN", "only approvers may verify the audit log");
    await deps.auditLog.flush();
    const r = await verifyAudit(deps.auditLog.dir);
    return c.json(r, r.ok ? 200 : 409);
  });

  return { app, metrics, close: () => metrics.close() };
}
