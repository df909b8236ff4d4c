/**
 * `GET /openapi.json` and `GET /docs` in-process over the real app: the document has the shape of
 * OpenAPI 3.1, describes every route the hono app registers (a new undocumented route fails
 * here), and the HTML page lists every operation without external assets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenApiDocument } from "./openapi.js";
import { ApprovalList, AuditPage, ToolList, toolList } from "./responses.js";
import { TestGateway } from "./test-support.js";

const gateway = new TestGateway({
  name: "openapi",
  envPrefix: "PC_OPENAPI",
  keys: { key: { id: "agent", secret: "openapi-key-0123456789abcdef", roles: ["user"] } },
  config: { workspace: { roots: ["."] } },
});
beforeAll(() => gateway.start());
afterAll(() => gateway.close());

const get = (path: string) => gateway.request(path, undefined);

/** "METHOD /path/{param}" for every handler route of the app, minus /mcp and the RFC 9728 document. */
function appOperations(): string[] {
  const out = new Set<string>();
  for (const r of gateway.app.app.routes) {
    if (r.method === "ALL") continue; // middleware
    if (r.path === "/mcp" || r.path.startsWith("/mcp/") || r.path.startsWith("/.well-known/")) continue;
    const path = r.path.replace(/\/+/g, "/").replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    out.add(`${r.method} ${path}`);
  }
  return [...out].sort();
}

describe("OpenAPI document", () => {
  let doc: OpenApiDocument;
  beforeAll(async () => {
    const res = await get("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    doc = (await res.json()) as OpenApiDocument;
  });

  it("is OpenAPI 3.1 in shape with a bearer scheme and component schemas", () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toBeTruthy();
    expect(doc.components.securitySchemes).toMatchObject({ bearer: { type: "http", scheme: "bearer" } });
    expect(doc.security).toEqual([{ bearer: [] }]);
    for (const name of [
      "ToolCallResult",
      "SessionEvent",
      "AuditEnvelope",
      "PolicyDecision",
      "CallBody",
      "AnswerBody",
      "Problem",
    ])
      expect(doc.components.schemas[name], name).toBeTypeOf("object");
    for (const s of Object.values(doc.components.schemas)) {
      expect(s).not.toHaveProperty("$schema");
      expect(s).not.toHaveProperty("$id");
    }
    expect(doc.components.schemas.AnswerBody).toMatchObject({
      properties: { decision: { enum: ["approve", "deny"] } },
    });
  });

  it("documents every route of the app, and no route the app lacks", () => {
    const routes = appOperations();
    for (const must of [
      "GET /v1/tools",
      "POST /v1/tools/{name}/call",
      "GET /healthz",
      "PUT /v1/policy/bundle",
    ])
      expect(routes).toContain(must);
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(routes);
  });

  it("resolves every $ref and gives each operation a unique id, path parameters and problem responses", () => {
    const text = JSON.stringify(doc);
    for (const [, kind, name] of text.matchAll(/"#\/components\/(schemas|responses)\/([^"]+)"/g))
      expect(
        (doc.components as Record<string, Record<string, unknown>>)[kind!]![name!],
        `${kind}/${name}`,
      ).toBeDefined();
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths))
      for (const op of Object.values(item)) {
        expect(ids.has(op.operationId)).toBe(false);
        ids.add(op.operationId);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const [, p] of path.matchAll(/\{([^}]+)\}/g))
          expect(op.parameters?.some((x) => x.in === "path" && x.name === p && x.required === true)).toBe(
            true,
          );
        if (path.startsWith("/v1/")) {
          expect(op.security).toBeUndefined(); // the document-wide bearer requirement
          expect(op.responses["401"]).toEqual({ $ref: "#/components/responses/Unauthenticated" });
        }
      }
    const problemContent = (doc.components.responses.Unauthenticated as { content: Record<string, unknown> })
      .content;
    expect(Object.keys(problemContent)).toEqual(["application/problem+json"]);
    const auditParams = doc.paths["/v1/audit"]!.get!.parameters!.map((p) => p.name);
    expect(auditParams).toEqual(expect.arrayContaining(["since", "until", "limit", "after", "decision"]));
  });

  it("needs no credential, like /healthz", async () => {
    expect((await get("/openapi.json")).status).toBe(200);
    expect((await get("/v1/tools")).status).toBe(401);
  });
});

describe("/docs", () => {
  it("is plain HTML listing every operation, with no external assets", async () => {
    const res = await get("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    for (const op of appOperations()) {
      const [method, path] = op.split(" ");
      expect(html, op).toContain(`<code>${method} ${path}</code>`);
    }
    expect(html).not.toMatch(/<script|https?:\/\/|<link/i);
  });
});

describe("response schemas", () => {
  const authed = (path: string) => gateway.request(path, "key");

  it("the routes send what the document's component schemas describe", async () => {
    const doc = (await (await get("/openapi.json")).json()) as OpenApiDocument;
    const tools = await (await authed("/v1/tools")).json();
    expect(ToolList.parse(tools).tools.length).toBeGreaterThan(0);
    expect(ApprovalList.parse(await (await authed("/v1/approvals")).json())).toBeDefined();
    // a call (allowed or not, it is audited) so the audit page has records to check
    await gateway.request("/v1/tools/workspace__list/call", "key", {
      method: "POST",
      json: { arguments: {} },
    });
    expect(AuditPage.parse(await (await authed("/v1/audit?limit=5")).json()).records.length).toBeGreaterThan(
      0,
    );
    // the document carries the same schemas: strict lists with typed items, not loose objects
    const list = doc.components.schemas.ToolList as { properties: { tools: { items: unknown } } };
    expect(list.properties.tools.items).toEqual({ $ref: "#/components/schemas/Tool" });
    expect(doc.components.schemas.Tool).toMatchObject({
      required: expect.arrayContaining(["name", "inputSchema"]),
    });
    expect(doc.components.schemas.ApprovalList).toMatchObject({ additionalProperties: false });
  });

  it("refuses to send a tool the schema does not describe", () => {
    expect(() => toolList([{ name: "t", inputSchema: { type: "array" } }])).toThrow();
    expect(toolList([{ name: "t", inputSchema: { type: "object" }, _meta: { x: 1 } }]).tools).toHaveLength(1);
  });
});
