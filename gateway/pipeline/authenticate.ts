/**
 * Stage 1, authenticate: turns the transport's credentials into a principal. stdio is trusted as
 * the configured local principal; HTTP callers present `Authorization: Bearer <key>` matched in
 * constant time against the configured API keys (secrets resolved once, at start-up), and callers
 * or against the SHA-256 digests of stored keys (`portcullis keys create`), and callers
 * without a key are anonymous — unless `auth.localHttpPrincipal` is set and the connection comes from
 * a loopback address. A key that matches nothing is refused, never downgraded.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { intern } from "../canonical-fragments.js";
import { PortcullisError } from "../errors.js";
import type { Credentials, Principal, Stage } from "./context.js";

export interface ApiKey {
  id: string;
  /** The resolved secret. */
  key: string;
  roles: string[];
}

/** A key known only by its SHA-256 digest (the key file under dataDir). */
export interface StoredKeyDigest {
  id: string;
  roles: string[];
  digest: Buffer;
}

export interface AuthenticateOptions {
  apiKeys: ApiKey[];
  /** The currently active stored keys (consulted on every HTTP bearer). */
  storedKeys?: () => readonly StoredKeyDigest[];
  stdioPrincipal: string;
  stdioRoles: string[];
  /** Principal for credential-less HTTP callers on a loopback connection (opt-in local trust). */
  localHttpPrincipal?: string;
}

const fingerprint = (s: string) => createHash("sha256").update(s).digest();

// Principals are built with their members in canonical (sorted) order: the audit records and the
// context hash that embed them then canonicalise with one JSON.stringify (gateway/audit README).

/** The principal for a set of credentials; throws GW_ERR_AUTH for an unknown key. */
export function createAuthenticator(opts: AuthenticateOptions): (c: Credentials) => Principal {
  const keys = opts.apiKeys.map((k) => ({ ...k, digest: fingerprint(k.key) }));
  // One interned (frozen) principal per identity: every call of a caller embeds the same object,
  // whose canonical text the audit records and context hash reuse (gateway/canonical-fragments.ts).
  const stdio = intern<Principal>({
    authenticated: true,
    id: opts.stdioPrincipal,
    roles: [...opts.stdioRoles],
    via: "stdio",
  });
  const local = opts.localHttpPrincipal
    ? intern<Principal>({
        authenticated: true,
        id: opts.localHttpPrincipal,
        roles: [...opts.stdioRoles],
        via: "anonymous",
      })
    : undefined;
  const anonymous = intern<Principal>({ authenticated: false, id: "anonymous", roles: [], via: "anonymous" });
  const byKey = new WeakMap<object, Principal>();
  const principalOf = (k: { id: string; roles: string[] }): Principal => {
    let p = byKey.get(k);
    if (!p) {
      p = intern<Principal>({ authenticated: true, id: k.id, roles: [...k.roles], via: "api_key" });
      byKey.set(k, p);
    }
    return p;
  };
  return (credentials) => {
    if (credentials.kind === "stdio") return stdio;
    if (credentials.bearer === undefined) {
      // Opt-in: on a loopback connection the caller is the local user, trusted as on stdio.
      if (local && credentials.loopbackPeer) return local;
      return anonymous;
    }
    const presented = fingerprint(credentials.bearer);
    let match: { id: string; roles: string[] } | undefined;
    // Compare against every key so timing does not reveal which one (or whether any) matched.
    for (const k of keys) if (timingSafeEqual(k.digest, presented) && !match) match = k;
    for (const k of opts.storedKeys?.() ?? [])
      if (k.digest.length === presented.length && timingSafeEqual(k.digest, presented) && !match) match = k;
    if (!match) throw new PortcullisError("GW_ERR_AUTH", "invalid API key");
    return principalOf(match);
  };
}

/** The stage: sets `ctx.principal` unless the transport already authenticated the caller. */
export function authenticate(authenticator: (c: Credentials) => Principal): Stage {
  return function authenticateStage(ctx, next) {
    ctx.principal ??= authenticator(ctx.credentials);
    return next();
  };
}
