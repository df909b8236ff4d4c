/**
 * JWT verification against a JWKS served by a local HTTP server: valid tokens map to principals;
 * expired, wrong-audience, wrong-issuer, unsigned (`alg: none`) and tampered tokens are refused;
 * a rotated key (new `kid`) is picked up by refetching the JWKS.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../gateway/config/load.js";
import { createApp } from "../commands/serve.js";
import { createRuntime } from "../runtime.js";
import { createServices } from "../services.js";
import { createJwtVerifier, type TokenVerifier } from "./jwt.js";

const ISS = "https://issuer.test";
const AUD = "portcullis-test";
let server: Server;
let keys: JWK[] = [];
let fetches = 0;
let verify: TokenVerifier;
let jwksUrl = "";
type Key = Awaited<ReturnType<typeof generateKeyPair>>;
let k1: Key;

async function publicJwk(k: Key, kid: string): Promise<JWK> {
  return { ...(await exportJWK(k.publicKey)), kid, alg: "ES256", use: "sig" };
}

function sign(
  k: Key,
  kid: string,
  claims: Record<string, unknown> = {},
  opts: { exp?: string | number; iss?: string; aud?: string } = {},
) {
  return new SignJWT({ roles: ["user", "approver"], ...claims })
    .setProtectedHeader({ alg: "ES256", kid })
    .setSubject("alice")
    .setIssuer(opts.iss ?? ISS)
    .setAudience(opts.aud ?? AUD)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "5m")
    .sign(k.privateKey);
}

beforeAll(async () => {
  k1 = await generateKeyPair("ES256");
  keys = [await publicJwk(k1, "k1")];
  server = createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;
  jwksUrl = `http://127.0.0.1:${port}/jwks.json`;
  verify = createJwtVerifier({
    jwksUrl,
    issuer: ISS,
    audience: AUD,
    clockSkewS: 5,
    cooldownMs: 0,
  });
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
});

describe("JWT bearer tokens", () => {
  it("maps a valid token to its principal", async () => {
    expect(await verify(await sign(k1, "k1"))).toEqual({
      id: "alice",
      roles: ["user", "approver"],
      authenticated: true,
      via: "jwt",
    });
  });

  it("refuses expired (beyond the skew), wrong-audience and wrong-issuer tokens", async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    await expect(verify(await sign(k1, "k1", {}, { exp: past }))).rejects.toThrow(/ERR_JWT_EXPIRED/);
    await expect(verify(await sign(k1, "k1", {}, { aud: "someone-else" }))).rejects.toThrow(/aud/);
    await expect(verify(await sign(k1, "k1", {}, { iss: "https://evil.test" }))).rejects.toThrow(/iss/);
    // within the skew: accepted
    expect((await verify(await sign(k1, "k1", {}, { exp: Math.floor(Date.now() / 1000) - 2 }))).id).toBe(
      "alice",
    );
  });

  it("refuses unsigned (alg: none) and tampered tokens", async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const none = `${b64({ alg: "none" })}.${b64({ sub: "alice", iss: ISS, aud: AUD, exp: now + 300 })}.`;
    await expect(verify(none)).rejects.toThrow();
    const good = await sign(k1, "k1");
    const [h, , s] = good.split(".");
    const forged = `${h}.${b64({ sub: "root", iss: ISS, aud: AUD, exp: now + 300, roles: ["admin"] })}.${s}`;
    await expect(verify(forged)).rejects.toThrow(/ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
    const other = await generateKeyPair("ES256");
    await expect(verify(await sign(other, "k1"))).rejects.toThrow(/ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  });

  it("follows key rotation by refetching the JWKS for an unknown kid", async () => {
    const k2 = await generateKeyPair("ES256");
    const before = fetches;
    keys = [await publicJwk(k2, "k2")];
    expect((await verify(await sign(k2, "k2"))).id).toBe("alice");
    expect(fetches).toBeGreaterThan(before);
    // the retired key no longer verifies once the JWKS no longer lists it
    await expect(verify(await sign(k1, "k1"))).rejects.toThrow();
  });

  it("refuses symmetric algorithms in the configuration", () => {
    expect(() =>
      createJwtVerifier({
        jwksUrl: "http://127.0.0.1:1/",
        issuer: ISS,
        audience: AUD,
        algorithms: ["HS256"],
      }),
    ).toThrow(/asymmetric/);
  });

  it("authenticates REST callers configured with auth.jwt; a bad token is a 401 problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "portcullis-jwt-"));
    const config = validateConfig({
      auth: { jwt: { jwksUrl, issuer: ISS, audience: AUD } },
      audit: { dir: "audit" },
    });
    const services = await createServices(config, dir);
    const runtime = createRuntime(config, dir, services);
    const app = createApp({ runtime, services });
    try {
      const k = await generateKeyPair("ES256");
      keys = [await publicJwk(k, "k3")];
      const ok = await app.app.request("http://127.0.0.1/v1/tools", {
        headers: { authorization: `Bearer ${await sign(k, "k3")}` },
      });
      expect(ok.status).toBe(200);
      const bad = await app.app.request("http://127.0.0.1/v1/tools", {
        headers: { authorization: `Bearer ${await sign(k, "k3", {}, { aud: "other" })}` },
      });
      expect(bad.status).toBe(401);
      expect(await bad.json()).toMatchObject({ code: "GW_ERR_AUTH" });
    } finally {
      await app.close();
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
