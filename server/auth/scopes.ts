/**
 * API scopes: what a credential may do, on top of what the policy lets its principal do. A key
 * made with `portcullis keys create --scope S` (or a JWT with a `scope` claim, space-separated) is
 * restricted to the routes of its scopes; a key without scopes (every `auth.apiKeys` entry, and
 * stored keys created without `--scope`) keeps full access, as before scopes existed — so adding
 * scopes only ever narrows a credential. Each REST route needs exactly one scope (`scopeFor`); a
 * credential lacking it gets a 403 problem `GW_ERR_FORBIDDEN` naming the missing scope.
 */

/** Every scope, with what it admits. */
export const SCOPES = {
  "tools:read": "GET /v1/tools",
  "tools:call": "POST /v1/tools/{name}/call",
  "approvals:read": "GET /v1/approvals, GET /v1/approvals/{id}",
  "approvals:write": "POST /v1/approvals/{id}",
  "sessions:read": "GET /v1/sessions/{id}/events",
  "audit:read": "GET /v1/audit, GET /v1/audit/verify",
  "policy:admin": "PUT /v1/policy/bundle, GET /v1/policy/status, GET /v1/policy/metrics",
  "models:call": "the model API: GET /v1/models, POST /v1/chat/completions, /v1/responses, /v1/messages",
  mcp: "the MCP endpoint /mcp",
} as const;

export type Scope = keyof typeof SCOPES;

export function isScope(s: string): s is Scope {
  return Object.hasOwn(SCOPES, s);
}

const MODEL_PATHS = new Set(["/v1/models", "/v1/chat/completions", "/v1/responses", "/v1/messages"]);

/**
 * The scope a REST request needs. Unknown `/v1` paths need `policy:admin`, the narrowest grant, so
 * a route added without a scope is never open to restricted credentials by accident.
 */
export function scopeFor(method: string, path: string): Scope {
  if (path === "/v1/tools") return "tools:read";
  if (/^\/v1\/tools\/[^/]+\/call$/.test(path)) return "tools:call";
  if (path === "/v1/approvals" || /^\/v1\/approvals\/[^/]+$/.test(path))
    return method === "POST" ? "approvals:write" : "approvals:read";
  if (/^\/v1\/sessions\/[^/]+\/events$/.test(path)) return "sessions:read";
  if (path === "/v1/audit" || path === "/v1/audit/verify") return "audit:read";
  if (MODEL_PATHS.has(path)) return "models:call";
  return "policy:admin";
}

/** The scope `granted` lacks for `needed`, or undefined when admitted (no scopes = unrestricted). */
export function missingScope(granted: readonly string[] | undefined, needed: Scope): Scope | undefined {
  if (granted === undefined || granted.length === 0) return undefined;
  return granted.includes(needed) ? undefined : needed;
}

/** Scopes of a JWT payload: the `scope` claim (space-separated) or `scp` (array); undefined if absent. */
export function scopesOfClaims(payload: Record<string, unknown>): string[] | undefined {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === "string") return raw.split(" ").filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === "string");
  return undefined;
}
