/**
 * Authentication of the model API: the REST API's checks (Host/Origin allow-lists, `Authorization:
 * Bearer` API keys or JWTs, scopes) plus Anthropic's `x-api-key` header, which Anthropic clients
 * send instead of a bearer token and which is checked as the same API key. A credential restricted
 * to scopes needs `models:call` here. Failures are gateway errors: problem+json, 401 / 403.
 */
import type { Context } from "hono";
import type { Principal } from "../../gateway/pipeline/context.js";
import { missingScope, scopeFor } from "../auth/scopes.js";
import { isAllowedHost, isAllowedOrigin } from "../mcp/limits.js";
import { authenticateRequest, type Env, type GateOptions } from "../rest/gate.js";
import { problem, problemResponse } from "../rest/problem.js";

async function viaApiKeyHeader(
  c: Context<Env>,
  gate: GateOptions,
  key: string,
): Promise<Principal | Response> {
  const req = c.req.raw;
  if (!isAllowedHost(req.headers.get("host") ?? new URL(req.url).host, gate.allowedHosts))
    return problemResponse(problem("GW_ERR_FORBIDDEN", "Host not allowed"));
  if (!isAllowedOrigin(req.headers.get("origin") ?? undefined, gate.allowedOrigins))
    return problemResponse(problem("GW_ERR_FORBIDDEN", "Origin not allowed"));
  let principal: Principal;
  try {
    principal = gate.pipeline.authenticate({ kind: "http", bearer: key });
  } catch {
    return problemResponse(problem("GW_ERR_AUTH", "invalid credentials"));
  }
  if (!principal.authenticated) return problemResponse(problem("GW_ERR_AUTH", "authentication required"));
  const scopes = gate.keyScopes?.(key);
  if (scopes !== undefined) c.set("scopes", scopes);
  return principal;
}

/** The principal of a model API request, or the problem response refusing it. */
export async function authenticateModelCaller(
  c: Context<Env>,
  gate: GateOptions,
): Promise<Principal | Response> {
  const key = c.req.header("x-api-key");
  const p =
    key !== undefined && c.req.header("authorization") === undefined
      ? await viaApiKeyHeader(c, gate, key.trim())
      : await authenticateRequest(c, gate);
  if (p instanceof Response) return p;
  // The scope of the model paths (server/auth/scopes.ts: models:call).
  const missing = missingScope(c.get("scopes"), scopeFor(c.req.method, c.req.path));
  if (missing)
    return problemResponse(
      problem("GW_ERR_FORBIDDEN", `this credential lacks the scope '${missing}'`, { scope: missing }),
    );
  return p;
}
