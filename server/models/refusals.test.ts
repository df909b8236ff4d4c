/**
 * Refusals of the model API that happen before any target is decided, and the API's scope check,
 * on a listening gateway. A request for a model no route serves (`NO_MODEL_ROUTE`) and a request
 * whose sanitizer run fails (`SANITIZER_FAILED`, a model plane of the same configuration, policy
 * and audit log with a failing sanitizer) each leave a deny decision record naming the reason —
 * read back through `GET /v1/audit` — and the fake provider receives nothing. A stored key
 * restricted to other scopes gets 403 on every model route; one with `models:call` is served.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  echoScript,
  type FakeProvider,
  startFakeProvider,
} from "../../conformance/providers/fake-provider.js";
import { validateConfig } from "../../gateway/config/load.js";
import { createModelPlane, ModelCallError } from "../../gateway/models/index.js";
import { startTestGateway, type TestGateway } from "./test-gateway.js";

const CLIENT_KEY = "models-refusals-key-0123456789";
process.env.PC_M_REFUSALS = CLIENT_KEY;

let fake: FakeProvider;
let gw: TestGateway;

const models = (url: string) => ({
  providers: [{ v: 1, id: "p", kind: "openai_compatible", base_url: url, models: ["m"], local: false }],
  routes: [
    {
      v: 1,
      id: "only",
      match: { models: ["served"] },
      targets: [{ provider: "p", model: "m" }],
      strategy: "single",
    },
  ],
});

interface Rec {
  kind: string;
  id: string;
  decision?: string;
  principal: { id: string };
  target: { kind: string; name: string };
  reasons?: { code: string }[];
}

async function auditRecords(): Promise<Rec[]> {
  await gw.services.auditLog.flush();
  const r = await fetch(`${gw.base}/v1/audit?limit=1000`, {
    headers: { authorization: `Bearer ${CLIENT_KEY}` },
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { records: Rec[] }).records;
}

beforeAll(async () => {
  fake = await startFakeProvider({ format: "openai_chat", script: echoScript });
  gw = await startTestGateway({
    apiKeys: [{ id: "dev", key: "env:PC_M_REFUSALS" }],
    models: models(fake.url),
    storedKeys: [
      { id: "tools-only", scopes: ["tools:call"] },
      { id: "model-user", scopes: ["models:call"] },
    ],
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

describe("refusals before a target is decided are audited", () => {
  it("no matching route: 404 and a deny record with NO_MODEL_ROUTE", async () => {
    const openai = new OpenAI({ baseURL: `${gw.base}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    const e = await openai.chat.completions
      .create({ model: "unrouted-model", messages: [{ role: "user", content: "hi" }] })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    const rec = (await auditRecords()).find(
      (x) => x.target.kind === "model" && x.target.name === "unrouted-model",
    );
    expect(rec).toMatchObject({ kind: "decision", decision: "deny", principal: { id: "dev" } });
    expect(rec?.reasons?.map((x) => x.code)).toEqual(["NO_MODEL_ROUTE"]);
    expect(fake.requests).toHaveLength(0);
  });

  it("sanitizer failure: fails closed with a deny record naming SANITIZER_FAILED", async () => {
    const config = validateConfig({ models: models(fake.url) });
    const plane = createModelPlane(config.models, {
      decisions: gw.services.decisions,
      audit: gw.services.auditLog,
      baseDir: ".",
      redact: () => {
        throw new Error("sanitizer crashed");
      },
    });
    try {
      const err = await plane.gateway
        .complete(
          {
            model: "served",
            stream: false,
            system: [],
            messages: [{ role: "user", content: [{ type: "text", text: "x" }] }],
          },
          {
            id: "sanitizer-refusal",
            principal: { id: "dev", roles: ["user"], authenticated: true, via: "api_key" },
            transport: "http",
            signal: new AbortController().signal,
          },
        )
        .catch((x: unknown) => x);
      expect(err).toBeInstanceOf(ModelCallError);
      expect((err as ModelCallError).status).toBe(503);
    } finally {
      await plane.close();
    }
    const rec = (await auditRecords()).find((x) => x.id === "sanitizer-refusal.refused");
    expect(rec).toMatchObject({
      kind: "decision",
      decision: "deny",
      target: { kind: "model", name: "served" },
    });
    expect(rec?.reasons?.map((x) => x.code)).toEqual(["SANITIZER_FAILED"]);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("the models:call scope", () => {
  const call = (key: string, path: string, body?: unknown) =>
    fetch(`${gw.base}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const chat = { model: "served", messages: [{ role: "user", content: "hello" }] };

  it("a key restricted to other scopes gets 403 on every model route, naming the scope", async () => {
    const key = gw.storedKeys["tools-only"] as string;
    const anthropic = await fetch(`${gw.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ ...chat, max_tokens: 16 }),
    });
    const answers = [
      await call(key, "/v1/models"),
      await call(key, "/v1/chat/completions", chat),
      await call(key, "/v1/responses", { model: "served", input: "hello" }),
      anthropic,
    ];
    for (const r of answers) {
      expect(r.status).toBe(403);
      expect(r.headers.get("content-type")).toMatch(/problem\+json/);
      expect(((await r.json()) as { scope?: string }).scope).toBe("models:call");
    }
    expect(fake.requests).toHaveLength(0);
  });

  it("a key holding models:call is served", async () => {
    const key = gw.storedKeys["model-user"] as string;
    const listed = await call(key, "/v1/models");
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toContain("served");
    const r = await call(key, "/v1/chat/completions", chat);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toContain("hello");
    expect(fake.requests).toHaveLength(1);
  });
});
