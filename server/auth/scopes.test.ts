/**
 * Key scopes enforced on every REST route and on /mcp: a stored key restricted to some scopes gets
 * a 403 problem naming the missing scope on every other route and passes on its own; a key without
 * scopes (stored or configured) keeps full access; unknown scopes are refused at creation; JWT
 * scope claims are read as scopes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyData } from "../../conformance/policy/settings.js";
import { validateConfig } from "../../gateway/config/load.js";
import { createApp } from "../commands/serve.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";
import { createKey, keyFilePath } from "./key-store.js";
import { missingScope, SCOPES, type Scope, scopeFor, scopesOfClaims } from "./scopes.js";

let dir: string;
let runtime: Runtime;
let app: ReturnType<typeof createApp>;
const keys: Record<string, string> = {};

/** One request per route, with the scope it needs. */
const ROUTES: Array<{ scope: Scope; method: string; path: string; body?: unknown }> = [
  { scope: "tools:read", method: "GET", path: "/v1/tools" },
  { scope: "tools:call", method: "POST", path: "/v1/tools/workspace__list/call", body: { arguments: {} } },
  { scope: "approvals:read", method: "GET", path: "/v1/approvals" },
  { scope: "approvals:read", method: "GET", path: "/v1/approvals/00000000-0000-4000-8000-000000000000" },
  {
    scope: "approvals:write",
    method: "POST",
    path: "/v1/approvals/00000000-0000-4000-8000-000000000000",
    body: { decision: "approve" },
  },
  { scope: "sessions:read", method: "GET", path: "/v1/sessions/s1/events?follow=false" },
  { scope: "audit:read", method: "GET", path: "/v1/audit" },
  { scope: "audit:read", method: "GET", path: "/v1/audit/verify" },
  { scope: "policy:admin", method: "GET", path: "/v1/policy/status" },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-scopes-"));
  const config = validateConfig({ workspace: { roots: ["."] }, audit: { dir: "audit" } });
  const file = keyFilePath(config, dir);
  for (const scope of Object.keys(SCOPES) as Scope[])
    keys[scope] = createKey(file, {
      id: `only-${scope.replace(":", "-")}`,
      roles: ["admin"],
      scopes: [scope],
    }).key;
  keys.all = createKey(file, { id: "unrestricted", roles: ["admin"] }).key;
  const services = await createServices(config, dir, {
    policyData: policyData([{ id: "allow-all", effect: "allow" }]),
  });
  runtime = createRuntime(config, dir, services);
  app = createApp({ runtime, services });
});

afterAll(async () => {
  await app?.close();
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

function send(key: string, r: { method: string; path: string; body?: unknown }) {
  return app.app.request(`http://127.0.0.1${r.path}`, {
    method: r.method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(r.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
  });
}

describe("key scopes", () => {
  it.each(ROUTES)("$method $path needs $scope", async (route) => {
    for (const scope of Object.keys(SCOPES) as Scope[]) {
      const res = await send(keys[scope]!, route);
      const text = await res.text();
      const body = (res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : {}) as {
        code?: string;
        scope?: string;
        detail?: string;
      };
      if (scope === route.scope) {
        expect(body.scope, `${scope} on ${route.path}`).toBeUndefined();
      } else {
        expect(res.status, `${scope} on ${route.path}`).toBe(403);
        expect(res.headers.get("content-type")).toContain("application/problem+json");
        expect(body).toMatchObject({ code: "GW_ERR_FORBIDDEN", scope: route.scope });
        expect(body.detail).toContain(route.scope);
      }
    }
    const unrestricted = await send(keys.all!, route);
    expect(await unrestricted.text()).not.toContain("lacks the scope");
  });

  it("the scoped key passes on its own route", async () => {
    expect((await send(keys["tools:read"]!, ROUTES[0]!)).status).toBe(200);
    expect((await send(keys["tools:call"]!, ROUTES[1]!)).status).toBe(200);
    expect((await send(keys["audit:read"]!, ROUTES[6]!)).status).toBe(200);
    expect((await send(keys["policy:admin"]!, ROUTES[8]!)).status).toBe(200);
  });

  it("/mcp needs the mcp scope", async () => {
    const init = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    };
    const mcp = (key: string) =>
      app.app.request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify(init),
      });
    const refused = await mcp(keys["tools:call"]!);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { scope: string }).scope).toBe("mcp");
    expect((await mcp(keys.mcp!)).status).toBe(200);
    expect((await mcp(keys.all!)).status).toBe(200);
  });

  it("refuses unknown scopes when a key is created", () => {
    const config = validateConfig({});
    expect(() => createKey(keyFilePath(config, dir), { id: "x", scopes: ["tools:everything"] })).toThrow(
      /unknown scope tools:everything/,
    );
  });

  it("maps routes and claims to scopes", () => {
    expect(scopeFor("GET", "/v1/unknown")).toBe("policy:admin");
    expect(scopeFor("POST", "/v1/chat/completions")).toBe("models:call");
    expect(missingScope(undefined, "audit:read")).toBeUndefined();
    expect(missingScope([], "audit:read")).toBeUndefined();
    expect(missingScope(["tools:call"], "audit:read")).toBe("audit:read");
    expect(scopesOfClaims({ scope: "tools:read tools:call" })).toEqual(["tools:read", "tools:call"]);
    expect(scopesOfClaims({ scp: ["mcp"] })).toEqual(["mcp"]);
    expect(scopesOfClaims({})).toBeUndefined();
  });
});
