/**
 * `/mcp` as a protected resource: RFC 9728 metadata at both well-known paths, 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"` for missing or invalid credentials, API keys
 * and JWTs (audience = `auth.resource`, JWKS served by a local HTTP server) accepted, a token for
 * another audience refused.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../gateway/config/load.js";
import { createApp } from "../commands/serve.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";

const ISS = "https://issuer.test";
const RESOURCE = "https://gw.test/mcp";
const KEY = "resource-test-key-0123456789";
let jwks: Server;
let dir: string;
let runtime: Runtime;
let gw: ReturnType<typeof createApp>;
let signer: Awaited<ReturnType<typeof generateKeyPair>>;

const token = (aud: string) =>
  new SignJWT({ roles: ["user"] })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setSubject("alice")
    .setIssuer(ISS)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(signer.privateKey);

beforeAll(async () => {
  signer = await generateKeyPair("ES256");
  const keys = [{ ...(await exportJWK(signer.publicKey)), kid: "k1", alg: "ES256", use: "sig" }];
  jwks = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys })),
  );
  await new Promise<void>((ok) => jwks.listen(0, "127.0.0.1", ok));
  dir = mkdtempSync(join(tmpdir(), "portcullis-resource-"));
  process.env.PC_RESOURCE_KEY = KEY;
  const config = validateConfig({
    auth: {
      apiKeys: [{ id: "bob", key: "env:PC_RESOURCE_KEY" }],
      resource: RESOURCE,
      jwt: {
        jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
        issuer: ISS,
        audience: "rest-api",
      },
    },
    audit: { dir: "audit" },
  });
  const services = await createServices(config, dir);
  runtime = createRuntime(config, dir, services);
  gw = createApp({ runtime, services });
});

afterAll(async () => {
  await gw?.close();
  await runtime?.close();
  await new Promise((done) => jwks.close(done));
  rmSync(dir, { recursive: true, force: true });
});

const init = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});

const post = (auth?: string) =>
  gw.app.request("http://127.0.0.1/mcp", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(auth ? { authorization: auth } : {}),
    },
    body: init,
  });

describe("/mcp as an OAuth protected resource", () => {
  it("publishes RFC 9728 metadata at the well-known path and its /mcp form", async () => {
    for (const path of [
      "/.well-known/oauth-protected-resource",
      "/.well-known/oauth-protected-resource/mcp",
    ]) {
      const res = await gw.app.request(`http://127.0.0.1${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        resource: RESOURCE,
        authorization_servers: [ISS],
        bearer_methods_supported: ["header"],
        resource_name: "Portcullis MCP gateway",
      });
    }
  });

  it("answers missing, malformed and invalid credentials with 401 pointing at the metadata", async () => {
    for (const auth of [undefined, "Basic Ym9iOng=", "Bearer not-a-key"]) {
      const res = await post(auth);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe(
        'Bearer resource_metadata="https://gw.test/.well-known/oauth-protected-resource/mcp"',
      );
    }
  });

  it("accepts an API key and a JWT whose audience is the gateway's resource", async () => {
    const byKey = await post(`Bearer ${KEY}`);
    expect(byKey.status).toBe(200);
    await byKey.text();
    const byJwt = await post(`Bearer ${await token(RESOURCE)}`);
    expect(byJwt.status).toBe(200);
    expect(byJwt.headers.get("mcp-session-id")).toBeTruthy();
    await byJwt.text();
  });

  it("refuses a JWT minted for another audience (the REST audience is not the MCP resource)", async () => {
    const res = await post(`Bearer ${await token("rest-api")}`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/resource_metadata=/);
  });
});
