/**
 * Request checks shared by every REST route: Host/Origin allow-lists (DNS-rebinding defence, the
 * same lists as `/mcp`), authentication of `Authorization: Bearer …` through the pipeline's
 * authenticator (API keys; a JWT verifier when configured) with the credential's scopes (kept in
 * the context as `scopes`), and bounded JSON bodies (size and nesting depth). Anonymous callers are refused here with 401: the REST API has no anonymous use.
 */
import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import { isPortcullisError } from "../../gateway/errors.js";
import type { Principal } from "../../gateway/pipeline/context.js";
import type { Pipeline } from "../../gateway/pipeline/pipeline.js";
import { isAllowedHost, isAllowedOrigin, jsonDepthExceeds } from "../mcp/limits.js";
import { problem, problemResponse, RestError } from "./problem.js";

export interface GateOptions {
  pipeline: Pipeline;
  maxBodyBytes: number;
  maxJsonDepth: number;
  allowedOrigins: readonly string[];
  allowedHosts: readonly string[];
  /**
   * Verifies a bearer token that is not an API key (JWT); undefined when JWTs are not configured.
   * `scopes` (the token's scope claim) restricts what the token may do.
   */
  verifyToken?: (token: string) => Promise<(Principal & { scopes?: string[] }) | undefined>;
  /** Scopes of an API key (stored keys made with `--scope`); undefined or empty = unrestricted. */
  keyScopes?: (bearer: string) => readonly string[] | undefined;
  /** Extra response headers on a 401 (e.g. `WWW-Authenticate`). */
  challenge?: () => Record<string, string>;
}

export type Env = {
  Bindings: Partial<HttpBindings>;
  /** `scopes`: what the credential is restricted to (server/auth/scopes.ts); unset = unrestricted. */
  Variables: { principal: Principal; scopes?: readonly string[] };
};

function isLoopback(a: string | undefined): boolean {
  return a === "127.0.0.1" || a === "::1" || a === "::ffff:127.0.0.1";
}

/** The principal of a request, or the problem response refusing it. */
export async function authenticateRequest(c: Context<Env>, o: GateOptions): Promise<Principal | Response> {
  const req = c.req.raw;
  if (!isAllowedHost(req.headers.get("host") ?? new URL(req.url).host, o.allowedHosts))
    return problemResponse(problem("GW_ERR_FORBIDDEN", "Host not allowed"));
  if (!isAllowedOrigin(req.headers.get("origin") ?? undefined, o.allowedOrigins))
    return problemResponse(problem("GW_ERR_FORBIDDEN", "Origin not allowed"));
  const challenge = o.challenge?.() ?? { "www-authenticate": 'Bearer realm="portcullis"' };
  const auth = req.headers.get("authorization");
  let bearer: string | undefined;
  if (auth !== null) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m)
      return problemResponse(problem("GW_ERR_AUTH", "expected 'Authorization: Bearer <token>'"), challenge);
    bearer = m[1];
  }
  let principal: Principal;
  let scopes: readonly string[] | undefined;
  try {
    principal = o.pipeline.authenticate(
      bearer === undefined
        ? { kind: "http", loopbackPeer: isLoopback(c.env?.incoming?.socket?.remoteAddress) }
        : { kind: "http", bearer },
    );
  } catch (e) {
    if (!(isPortcullisError(e) && e.code === "GW_ERR_AUTH") || !bearer || !o.verifyToken)
      return problemResponse(
        problem("GW_ERR_AUTH", isPortcullisError(e) ? e.message : "invalid credentials"),
        challenge,
      );
    let verified: (Principal & { scopes?: string[] }) | undefined;
    try {
      verified = await o.verifyToken(bearer);
    } catch (err) {
      return problemResponse(
        problem("GW_ERR_AUTH", `invalid token: ${err instanceof Error ? err.message : String(err)}`),
        challenge,
      );
    }
    if (!verified) return problemResponse(problem("GW_ERR_AUTH", "invalid credentials"), challenge);
    // Scopes never reach the policy input: the principal stays the contract's shape.
    const { scopes: tokenScopes, ...p } = verified;
    principal = p;
    scopes = tokenScopes;
  }
  if (scopes === undefined && bearer !== undefined && principal.via === "api_key")
    scopes = o.keyScopes?.(bearer);
  if (scopes !== undefined) c.set("scopes", scopes);
  if (!principal.authenticated)
    return problemResponse(problem("GW_ERR_AUTH", "authentication required"), challenge);
  return principal;
}

/** Reads a JSON object body within the size and depth limits; an empty body is `{}`. */
export async function readJsonBody(c: Context<Env>, o: GateOptions): Promise<Record<string, unknown>> {
  const req = c.req.raw;
  const type = req.headers.get("content-type");
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > o.maxBodyBytes)
    throw new RestError("GW_ERR_PAYLOAD_TOO_LARGE", `body exceeds ${o.maxBodyBytes} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > o.maxBodyBytes) {
        await reader.cancel();
        throw new RestError("GW_ERR_PAYLOAD_TOO_LARGE", `body exceeds ${o.maxBodyBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  if (size === 0) return {};
  if (type?.split(";")[0]?.trim().toLowerCase() !== "application/json")
    throw new RestError("GW_ERR_UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
  const text = Buffer.concat(chunks).toString("utf8");
  if (jsonDepthExceeds(text, o.maxJsonDepth))
    throw new RestError("GW_ERR_USAGE", `JSON nested deeper than ${o.maxJsonDepth}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RestError("GW_ERR_USAGE", "body is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new RestError("GW_ERR_USAGE", "body must be a JSON object");
  return value as Record<string, unknown>;
}
