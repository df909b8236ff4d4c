/**
 * JWT bearer tokens verified against a JWKS: signature by a key of the issuer's JWKS (fetched
 * over HTTP, cached, refetched when a token names an unknown `kid` — key rotation), `iss` and
 * `aud` exact, `exp`/`nbf` with a bounded clock skew, and an allow-list of asymmetric algorithms
 * (so `alg: none` and HMAC-with-the-public-key confusion are refused). The principal is the `sub`
 * claim; roles come from a configurable claim (string array or space-separated string).
 */
import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import type { Principal } from "../../gateway/pipeline/context.js";
import { scopesOfClaims } from "./scopes.js";

export interface JwtOptions {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Allowed clock skew in seconds (default 30, at most 300). */
  clockSkewS?: number;
  /** Claim holding the roles (default "roles"). */
  rolesClaim?: string;
  algorithms?: string[];
  /** Minimum time between JWKS refetches (ms; default 30,000). */
  cooldownMs?: number;
}

const DEFAULT_ALGS = ["RS256", "PS256", "ES256", "ES384", "EdDSA"];

/** The token's principal, and its scopes when the token carries a `scope` (or `scp`) claim. */
export type TokenVerifier = (token: string) => Promise<Principal & { scopes?: string[] }>;

/** A verifier that resolves to the token's principal or rejects with a reason. */
export function createJwtVerifier(o: JwtOptions): TokenVerifier {
  const skew = o.clockSkewS ?? 30;
  if (!(skew >= 0 && skew <= 300)) throw new RangeError(`clockSkewS must be in [0, 300], got ${skew}`);
  const jwks = createRemoteJWKSet(new URL(o.jwksUrl), {
    cooldownDuration: o.cooldownMs ?? 30_000,
    timeoutDuration: 5_000,
  });
  const algorithms = o.algorithms ?? DEFAULT_ALGS;
  if (algorithms.some((a) => a === "none" || a.startsWith("HS")))
    throw new RangeError("only asymmetric JWT algorithms are accepted");
  const rolesClaim = o.rolesClaim ?? "roles";
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: o.issuer,
        audience: o.audience,
        clockTolerance: skew,
        algorithms,
        requiredClaims: ["sub", "exp"],
      });
      const raw = payload[rolesClaim];
      const roles = Array.isArray(raw)
        ? raw.filter((r): r is string => typeof r === "string")
        : typeof raw === "string"
          ? raw.split(" ").filter(Boolean)
          : [];
      const scopes = scopesOfClaims(payload);
      return { id: payload.sub!, roles, authenticated: true, via: "jwt", ...(scopes ? { scopes } : {}) };
    } catch (e) {
      if (e instanceof errors.JOSEError) throw new Error(`${e.code}: ${e.message}`);
      throw e;
    }
  };
}
