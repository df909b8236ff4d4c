/**
 * `/mcp` as an OAuth 2.1 protected resource (MCP authorization, RFC 9728): the protected-resource
 * metadata document at `/.well-known/oauth-protected-resource` and its `/mcp`-suffixed form, and
 * a middleware in front of `/mcp` that — when authentication is configured (API keys, stored keys
 * or JWT) — authenticates every request with the REST gate (API key, else a JWT verified with the
 * gateway's resource as audience), answers missing or invalid credentials with 401 and
 * `WWW-Authenticate: Bearer resource_metadata="…"`, and hands the principal to the MCP endpoint.
 * The client's token stays here: upstream links carry only their own configured credentials.
 * `admitNow` is the middleware's synchronous part, for the `/mcp` fast lane (server/mcp/fast-lane.ts).
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import type { PortcullisConfig } from "../../gateway/config/schema.js";
import type { Principal } from "../../gateway/pipeline/context.js";
import type { Pipeline } from "../../gateway/pipeline/pipeline.js";
import { isLoopbackAddress } from "../mcp/http-headers.js";
import { authenticateRequest, type Env } from "../rest/gate.js";
import { problem, problemResponse } from "../rest/problem.js";
import { missingScope } from "./scopes.js";

export const METADATA_PATH = "/.well-known/oauth-protected-resource";

export interface ProtectedResourceOptions {
  config: PortcullisConfig;
  pipeline: Pipeline;
  /** True while some credential is configured (checked per request: stored keys come and go). */
  authConfigured: () => boolean;
  /** JWT verifier whose audience is the gateway's resource; undefined without `auth.jwt`. */
  verifyToken?: (token: string) => Promise<Principal & { scopes?: string[] }>;
  /** Scopes of a stored API key; a restricted credential needs the `mcp` scope here. */
  keyScopes?: (bearer: string) => readonly string[] | undefined;
}

export interface ProtectedResource {
  /** Principals established by the middleware, read by the MCP endpoint's gate. */
  authenticated(req: Request): Principal | undefined;
  /**
   * The middleware's verdict when it can be reached synchronously from the request's headers
   * (Host and Origin already allowed): null when it is off (nothing configured), the principal it
   * would admit with no JWT involved, else undefined (a refusal, a JWT: only the middleware answers).
   */
  admitNow(header: (name: string) => string | null, peer: string | undefined): Principal | null | undefined;
  mount(app: Hono<Env>): void;
}

/** The resource identifier: `auth.resource`, else this request's origin + `/mcp`. */
export function resourceUrl(config: PortcullisConfig, req: Request): string {
  if (config.auth.resource) return config.auth.resource;
  const u = new URL(req.url);
  const host = req.headers.get("host") ?? u.host;
  return `${u.protocol}//${host}/mcp`;
}

function metadataUrl(config: PortcullisConfig, req: Request): string {
  const r = new URL(resourceUrl(config, req));
  const path = r.pathname === "/" ? "" : r.pathname;
  return `${r.origin}${METADATA_PATH}${path}`;
}

export function createProtectedResource(o: ProtectedResourceOptions): ProtectedResource {
  const principals = new WeakMap<Request, Principal>();
  const s = o.config.server;

  const metadata = (c: Context<Env>) =>
    c.json(
      {
        resource: resourceUrl(o.config, c.req.raw),
        ...(o.config.auth.jwt ? { authorization_servers: [o.config.auth.jwt.issuer] } : {}),
        bearer_methods_supported: ["header"],
        resource_name: "Portcullis MCP gateway",
      },
      200,
      { "cache-control": "max-age=300" },
    );

  const guard: MiddlewareHandler<Env> = async (c, next) => {
    if (!o.authConfigured()) return next();
    const challenge = () => ({
      "www-authenticate": `Bearer resource_metadata="${metadataUrl(o.config, c.req.raw)}"`,
    });
    const p = await authenticateRequest(c, {
      pipeline: o.pipeline,
      maxBodyBytes: s.maxBodyBytes,
      maxJsonDepth: s.maxJsonDepth,
      allowedOrigins: s.allowedOrigins,
      allowedHosts: s.allowedHosts,
      challenge,
      ...(o.verifyToken ? { verifyToken: o.verifyToken } : {}),
      ...(o.keyScopes ? { keyScopes: o.keyScopes } : {}),
    });
    if (p instanceof Response) return p;
    if (missingScope(c.get("scopes"), "mcp"))
      return problemResponse(
        problem("GW_ERR_FORBIDDEN", "this credential lacks the scope 'mcp'", { scope: "mcp" }),
      );
    principals.set(c.req.raw, p);
    await next();
  };

  // The guard's path with no await: API keys and loopback trust; the same scope rule.
  const admitNow: ProtectedResource["admitNow"] = (header, peer) => {
    if (!o.authConfigured()) return null;
    const auth = header("authorization");
    let bearer: string | undefined;
    if (auth !== null) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (!m) return undefined;
      bearer = m[1];
    }
    let p: Principal;
    try {
      p = o.pipeline.authenticate(
        bearer === undefined
          ? { kind: "http", loopbackPeer: isLoopbackAddress(peer) }
          : { kind: "http", bearer },
      );
    } catch {
      return undefined;
    }
    if (!p.authenticated) return undefined;
    if (bearer !== undefined && p.via === "api_key" && missingScope(o.keyScopes?.(bearer), "mcp"))
      return undefined;
    return p;
  };

  return {
    authenticated: (req) => principals.get(req),
    admitNow,
    mount(app) {
      app.get(METADATA_PATH, metadata);
      app.get(`${METADATA_PATH}/mcp`, metadata);
      app.use("/mcp", guard);
      app.use("/mcp/*", guard);
    },
  };
}
