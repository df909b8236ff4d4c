/**
 * The OpenAPI 3.1 description of the REST API (`GET /openapi.json`) and a plain server-rendered
 * reference page made from it (`GET /docs`, no scripts, no external assets). Component schemas
 * come from the zod sources through `z.toJSONSchema` (JSON Schema 2020-12, the dialect of OpenAPI
 * 3.1): the contracts (ToolCallResult, SessionEvent, AuditEnvelope, PolicyDecision, ...) and the
 * request bodies and query parameters the routes validate (calls.ts, approvals.ts,
 * audit-query.ts) and the response bodies the routes build through (responses.ts). The document is built once per process; `openapi.test.ts` fails when a route
 * of the app is not described here.
 */
import type { Hono } from "hono";
import { z } from "zod";
import {
  AuditEnvelope,
  PolicyDecision,
  PolicyInput,
  SessionEvent,
  ToolCallRequest,
  ToolCallResult,
} from "../../contracts/index.js";
import { SCOPES } from "../auth/scopes.js";
import { modelApiPaths } from "../models/openapi-paths.js";
import { AnswerBody } from "./approvals.js";
import { AuditQuery } from "./audit-query.js";
import { CallBody } from "./calls.js";
import type { Env } from "./gate.js";
import { ApprovalList, ApprovalView, AuditPage, ToolList, ToolView } from "./responses.js";

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Json; responses: Record<string, Json> };
  security: Json[];
}

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, Json>;
  security?: Json[];
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const problemRef = (name: string) => ({ $ref: `#/components/responses/${name}` });

const Problem = z.looseObject({
  type: z.string().describe("urn:portcullis:error:<code>"),
  title: z.string(),
  status: z.number().int(),
  code: z.string().describe("Stable GW_ERR_* code"),
  detail: z.string(),
});

/** Every zod schema named in `components.schemas`. */
const SCHEMAS: Record<string, z.ZodType> = {
  ToolCallRequest,
  ToolCallResult,
  SessionEvent,
  AuditEnvelope,
  PolicyInput,
  PolicyDecision,
  CallBody,
  AnswerBody,
  Approval: ApprovalView,
  Problem,
  Tool: ToolView,
  ToolList,
  ApprovalList,
  AuditPage,
  AuditVerification: z.looseObject({ ok: z.boolean() }),
  Readiness: z.looseObject({
    ready: z.boolean(),
    checks: z.looseObject({
      policy: z.boolean(),
      audit: z.boolean(),
      store: z
        .strictObject({ ok: z.boolean(), backend: z.enum(["memory", "redis"]), detail: z.string() })
        .describe("The shared state (in-process, or Redis with --store)"),
      upstreams: z.unknown(),
    }),
  }),
  Health: z.looseObject({ ok: z.boolean(), upstreams: z.unknown() }),
  BundleActivation: z.looseObject({ revision: z.string().optional(), policy_hash: z.string().optional() }),
  PolicyStatus: z.looseObject({ bundles: z.record(z.string(), z.unknown()) }),
};

function componentSchemas(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(SCHEMAS)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, {
    io: "input",
    unrepresentable: "throw",
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas as Record<string, Json>;
  for (const s of Object.values(out)) {
    delete s.$schema;
    delete s.$id;
  }
  return out;
}

/** One query parameter per member of a zod object, its schema from the same source. */
function queryParams(shape: Record<string, z.ZodType>): Json[] {
  return Object.entries(shape).map(([name, schema]) => {
    const s = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
    delete s.$schema;
    return { name, in: "query", required: false, schema: s };
  });
}

const pathParam = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string", minLength: 1 },
});

const ERRORS = {
  "400": problemRef("Usage"),
  "401": problemRef("Unauthenticated"),
  "500": problemRef("Internal"),
  "503": problemRef("StoreUnavailable"),
};
const PUBLIC: Json[] = [];

function paths(): OpenApiDocument["paths"] {
  const sse = (description: string) => ({
    description,
    content: { "text/event-stream": { schema: { type: "string" } } },
  });
  return {
    "/healthz": {
      get: {
        operationId: "healthz",
        summary: "Liveness and upstream health",
        tags: ["operations"],
        security: PUBLIC,
        responses: { "200": json(ref("Health"), "alive") },
      },
    },
    "/readyz": {
      get: {
        operationId: "readyz",
        summary: "Readiness: the policy engine answers and the audit log has not failed",
        tags: ["operations"],
        security: PUBLIC,
        responses: { "200": json(ref("Readiness"), "ready"), "503": json(ref("Readiness"), "not ready") },
      },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        summary: "Prometheus metrics",
        tags: ["operations"],
        security: PUBLIC,
        responses: {
          "200": {
            description: "Prometheus text",
            content: { "text/plain": { schema: { type: "string" } } },
          },
        },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "openapi",
        summary: "This OpenAPI 3.1 document",
        tags: ["operations"],
        security: PUBLIC,
        responses: { "200": json({ type: "object" }, "the document") },
      },
    },
    "/docs": {
      get: {
        operationId: "docs",
        summary: "HTML reference generated from this document",
        tags: ["operations"],
        security: PUBLIC,
        responses: {
          "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } },
        },
      },
    },
    "/v1/tools": {
      get: {
        operationId: "listTools",
        summary: "The tools this principal may see (policy-filtered), with their schemas",
        tags: ["tools"],
        responses: { "200": json(ref("ToolList"), "tools"), ...ERRORS },
      },
    },
    "/v1/tools/{name}/call": {
      post: {
        operationId: "callTool",
        summary: "Call a tool through the pipeline",
        description:
          "JSON result, or with `Accept: text/event-stream` the events `progress`, `session`, then `result`. " +
          "Status: ok/error 200, pending_approval 202 (retry once the approval is granted), denied 403, timeout 504, cancelled 499; " +
          "denied with STORE_UNAVAILABLE (the shared store is down) 503.",
        tags: ["tools"],
        parameters: [pathParam("name", "tool name")],
        requestBody: { required: false, content: { "application/json": { schema: ref("CallBody") } } },
        responses: {
          "200": {
            description: "ok or error result",
            content: {
              "application/json": { schema: ref("ToolCallResult") },
              "text/event-stream": { schema: { type: "string" } },
            },
          },
          "202": json(ref("ToolCallResult"), "pending_approval: an approval was created, nothing ran"),
          "403": {
            description: "denied result, or a forbidden session",
            content: {
              "application/json": { schema: ref("ToolCallResult") },
              "application/problem+json": { schema: ref("Problem") },
            },
          },
          "404": problemRef("NotFound"),
          "413": problemRef("PayloadTooLarge"),
          "415": problemRef("UnsupportedMediaType"),
          "499": json(ref("ToolCallResult"), "cancelled"),
          "504": json(ref("ToolCallResult"), "timeout"),
          ...ERRORS,
          "503": {
            description: "denied because the shared store cannot be reached (reason STORE_UNAVAILABLE)",
            content: {
              "application/json": { schema: ref("ToolCallResult") },
              "application/problem+json": { schema: ref("Problem") },
            },
          },
        },
      },
    },
    "/v1/approvals": {
      get: {
        operationId: "listApprovals",
        summary: "Pending approvals (approvers: all; others: their own); long-polls with wait_s and after",
        tags: ["approvals"],
        parameters: [
          { name: "wait_s", in: "query", schema: { type: "integer", minimum: 0, maximum: 60 } },
          { name: "after", in: "query", schema: { type: "string", format: "date-time" } },
        ],
        responses: { "200": json(ref("ApprovalList"), "approvals"), ...ERRORS },
      },
    },
    "/v1/approvals/{id}": {
      get: {
        operationId: "getApproval",
        summary: "One approval; wait_s long-polls until it is answered",
        tags: ["approvals"],
        parameters: [
          pathParam("id", "approval id"),
          { name: "wait_s", in: "query", schema: { type: "integer", minimum: 0, maximum: 60 } },
        ],
        responses: { "200": json(ref("Approval"), "the approval"), "404": problemRef("NotFound"), ...ERRORS },
      },
      post: {
        operationId: "answerApproval",
        summary: "Approve or deny (approvers other than the asking principal)",
        tags: ["approvals"],
        parameters: [pathParam("id", "approval id")],
        requestBody: { required: true, content: { "application/json": { schema: ref("AnswerBody") } } },
        responses: {
          "200": json(ref("Approval"), "the answered approval"),
          "403": problemRef("Forbidden"),
          "404": problemRef("NotFound"),
          "409": problemRef("Conflict"),
          ...ERRORS,
        },
      },
    },
    "/v1/sessions/{id}/events": {
      get: {
        operationId: "sessionEvents",
        summary:
          "SSE of the session's events (id = seq), resumable with Last-Event-ID; follow=false replays and ends",
        description: "Each event's data is a SessionEvent document.",
        tags: ["sessions"],
        parameters: [
          pathParam("id", "session id"),
          { name: "Last-Event-ID", in: "header", schema: { type: "integer", minimum: 0 } },
          { name: "after", in: "query", schema: { type: "integer", minimum: 0 } },
          { name: "follow", in: "query", schema: { type: "boolean", default: true } },
        ],
        responses: { "200": sse("SessionEvent stream"), "404": problemRef("NotFound"), ...ERRORS },
      },
    },
    "/v1/audit": {
      get: {
        operationId: "queryAudit",
        summary: "Audit records (non-approvers: their own), paged with after = next",
        tags: ["audit"],
        parameters: queryParams(AuditQuery.shape),
        responses: {
          "200": json(ref("AuditPage"), "a page of records"),
          "403": problemRef("Forbidden"),
          ...ERRORS,
        },
      },
    },
    "/v1/audit/verify": {
      get: {
        operationId: "verifyAudit",
        summary: "Hash-chain verification of the audit folder (approvers)",
        tags: ["audit"],
        responses: {
          "200": json(ref("AuditVerification"), "intact"),
          "409": json(ref("AuditVerification"), "broken chain"),
          "403": problemRef("Forbidden"),
          ...ERRORS,
        },
      },
    },
    "/v1/policy/bundle": {
      put: {
        operationId: "pushPolicyBundle",
        summary: "Push a signed policy bundle (admins)",
        tags: ["policy"],
        requestBody: {
          required: true,
          content: {
            "application/gzip": { schema: { type: "string", contentMediaType: "application/gzip" } },
          },
        },
        responses: {
          "200": json(ref("BundleActivation"), "activated"),
          "403": problemRef("Forbidden"),
          "413": problemRef("PayloadTooLarge"),
          "415": problemRef("UnsupportedMediaType"),
          "422": problemRef("BundleRefused"),
          ...ERRORS,
        },
      },
    },
    "/v1/policy/status": {
      get: {
        operationId: "policyStatus",
        summary: "OPA-style bundle status and decision-log counters (admins)",
        tags: ["policy"],
        responses: { "200": json(ref("PolicyStatus"), "status"), "403": problemRef("Forbidden"), ...ERRORS },
      },
    },
    "/v1/policy/metrics": {
      get: {
        operationId: "policyMetrics",
        summary: "Bundle status and decision-log counters as Prometheus text (admins)",
        tags: ["policy"],
        responses: {
          "200": {
            description: "Prometheus text",
            content: { "text/plain": { schema: { type: "string" } } },
          },
          "403": problemRef("Forbidden"),
          ...ERRORS,
        },
      },
    },
    ...modelApiPaths(),
  };
}

const PROBLEMS: Record<string, [string, string]> = {
  Usage: ["GW_ERR_USAGE", "Bad request"],
  Unauthenticated: ["GW_ERR_AUTH", "Missing or invalid bearer credential (with WWW-Authenticate: Bearer)"],
  Forbidden: ["GW_ERR_FORBIDDEN", "Authenticated but not allowed"],
  NotFound: ["GW_ERR_NOT_FOUND", "Not found"],
  Conflict: ["GW_ERR_CONFLICT", "Conflict"],
  PayloadTooLarge: ["GW_ERR_PAYLOAD_TOO_LARGE", "Body over server.maxBodyBytes"],
  UnsupportedMediaType: ["GW_ERR_UNSUPPORTED_MEDIA_TYPE", "Body is not application/json"],
  Internal: ["GW_ERR_INTERNAL", "Internal error"],
  StoreUnavailable: [
    "GW_ERR_STORE_UNAVAILABLE",
    "The shared store (Redis, --store) cannot be reached; retry later",
  ],
  BundleRefused: [
    "GW_ERR_BUNDLE",
    "Bundle refused (`reason`: the activation failure, `bundle_status`: the bundle status); the old bundle keeps serving",
  ],
};

let cached: OpenApiDocument | undefined;

/** The OpenAPI 3.1 document of the REST API. */
export function openApiDocument(version = "0.1.0"): OpenApiDocument {
  if (cached && cached.info.version === version) return cached;
  const responses: Record<string, Json> = {};
  for (const [name, [code, description]] of Object.entries(PROBLEMS))
    responses[name] = {
      description: `${description} (${code})`,
      content: { "application/problem+json": { schema: ref("Problem") } },
    };
  cached = {
    openapi: "3.1.1",
    info: {
      title: "Portcullis HTTP gateway",
      version,
      description:
        "REST API beside /mcp. Every call goes through the policy pipeline; every failure other than a tool " +
        "result is application/problem+json with a stable code.",
    },
    paths: paths(),
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description:
            "API key or JWT in Authorization: Bearer. A credential with scopes (stored keys made with --scope, " +
            "a JWT `scope` claim) may use only their routes; otherwise 403 GW_ERR_FORBIDDEN naming the scope. " +
            `Scopes: ${Object.entries(SCOPES)
              .map(([k, v]) => `${k} (${v})`)
              .join("; ")}.`,
        },
      },
      responses,
    },
    security: [{ bearer: [] }],
  };
  return cached;
}

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );

/** The reference page: one section per operation, from the document alone. */
export function renderDocsHtml(doc: OpenApiDocument): string {
  const ops: string[] = [];
  const index: string[] = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const anchor = esc(op.operationId);
      const sig = `${m.toUpperCase()} ${esc(path)}`;
      index.push(`<li><a href="#${anchor}"><code>${sig}</code></a> — ${esc(op.summary)}</li>`);
      const params = (op.parameters ?? [])
        .map(
          (p) =>
            `<li><code>${esc(String(p.name))}</code> (${esc(String(p.in))}${p.required ? ", required" : ""})</li>`,
        )
        .join("");
      const body = op.requestBody
        ? `<p>Body: ${Object.keys((op.requestBody.content as Json) ?? {})
            .map((t) => `<code>${esc(t)}</code>`)
            .join(", ")}</p>`
        : "";
      const responses = Object.entries(op.responses)
        .map(([status, r]) => {
          const target = "$ref" in r ? doc.components.responses[String(r.$ref).split("/").pop()!] : r;
          return `<li><code>${esc(status)}</code> ${esc(String(target?.description ?? ""))}</li>`;
        })
        .join("");
      const auth = op.security && op.security.length === 0 ? "none" : "bearer";
      ops.push(
        `<section id="${anchor}"><h2><code>${sig}</code></h2><p>${esc(op.summary)}</p>` +
          (op.description ? `<p>${esc(op.description)}</p>` : "") +
          `<p>Authentication: ${auth}</p>` +
          (params ? `<h3>Parameters</h3><ul>${params}</ul>` : "") +
          body +
          `<h3>Responses</h3><ul>${responses}</ul></section>`,
      );
    }
  const schemas = Object.keys(doc.components.schemas)
    .map((n) => `<li><code>${esc(n)}</code></li>`)
    .join("");
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)}</title>` +
    "<style>body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}code{background:#f4f4f4}</style>" +
    `</head><body><h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>` +
    `<p>${esc(doc.info.description ?? "")}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc.openapi)})</p>` +
    `<ul>${index.join("")}</ul>${ops.join("")}<h2>Schemas</h2><ul>${schemas}</ul></body></html>\n`
  );
}

/** Mounts `GET /openapi.json` and `GET /docs` (public, like `/healthz`). */
export function mountOpenApi(app: Hono<Env>): void {
  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  app.get("/docs", (c) =>
    c.html(renderDocsHtml(openApiDocument()), 200, {
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    }),
  );
}
