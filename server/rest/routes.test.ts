/**
 * The REST API in-process (`app.request`) over the real services: built-in tools, the default
 * policy engine with test data (ask on memory__upsert, deny workspace__search), the audit log in
 * a temporary folder, in-memory approvals and the session event bus.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyData } from "../../conformance/policy/settings.js";
import { TestGateway, type TestRequestInit } from "./test-support.js";

const gateway = new TestGateway({
  name: "rest",
  envPrefix: "PC_REST",
  keys: {
    agent: { secret: "agent-key-0123456789abcdef", roles: ["user"] },
    boss: { secret: "boss-key-0123456789abcdef", roles: ["approver"] },
    eve: { secret: "eve-key-0123456789abcdef", roles: ["user"] },
  },
  config: { workspace: { roots: ["."] } },
  files: () => ({ "hello.txt": "hello from the workspace\n" }),
  policyData: policyData([
    { id: "no-search", effect: "deny", names: ["workspace__search"] },
    { id: "ask-upsert", effect: "ask", actions: ["tools/call"], names: ["memory__upsert"] },
    { id: "allow-rest", effect: "allow" },
  ]),
});
beforeAll(() => gateway.start());
afterAll(() => gateway.close());

const req = (path: string, who: "agent" | "boss" | "eve" | undefined, init?: TestRequestInit) =>
  gateway.request(path, who, init);

describe("REST API", () => {
  it("refuses anonymous and wrong keys with problem+json", async () => {
    const anon = await req("/v1/tools", undefined);
    expect(anon.status).toBe(401);
    expect(anon.headers.get("content-type")).toBe("application/problem+json");
    expect(anon.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await anon.json()).toMatchObject({ status: 401, code: "GW_ERR_AUTH" });
    const wrong = await gateway.app.app.request("http://127.0.0.1/v1/tools", {
      headers: { authorization: "Bearer nope" },
    });
    expect(wrong.status).toBe(401);
    const evil = await req("/v1/tools", "agent", { headers: { origin: "https://evil.example" } });
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as { code: string }).code).toBe("GW_ERR_FORBIDDEN");
  });

  it("lists the tools this principal may see, with schemas", async () => {
    const r = await req("/v1/tools", "agent");
    expect(r.status).toBe(200);
    const { tools } = (await r.json()) as { tools: { name: string; inputSchema: object }[] };
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["workspace__read", "memory__upsert"]));
    expect(names).not.toContain("workspace__search");
    expect(tools.find((t) => t.name === "workspace__read")?.inputSchema).toMatchObject({ type: "object" });
  });

  it("calls a tool and returns a JSON result; denials are 403 with reason codes", async () => {
    const ok = await req("/v1/tools/workspace__read/call", "agent", {
      method: "POST",
      json: { arguments: { path: "hello.txt" } },
    });
    expect(ok.status).toBe(200);
    const out = (await ok.json()) as {
      status: string;
      content: { text: string }[];
      reasons: { code: string }[];
    };
    expect(out.status).toBe("ok");
    expect(JSON.stringify(out.content)).toContain("hello from the workspace");
    expect(out.reasons.map((r) => r.code)).toContain("ALLOWED_BY_RULE");

    const denied = await req("/v1/tools/workspace__search/call", "agent", {
      method: "POST",
      json: { arguments: { pattern: "x" } },
    });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { reasons: { code: string }[] }).reasons.map((r) => r.code)).toContain(
      "DENIED_BY_RULE",
    );

    const unknown = await req("/v1/tools/nope__nothing/call", "agent", { method: "POST", json: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toBe("application/problem+json");
  });

  it("rejects malformed bodies with stable codes", async () => {
    const notJson = await req("/v1/tools/workspace__read/call", "agent", {
      method: "POST",
      body: "{",
      headers: { "content-type": "application/json" },
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { code: string }).code).toBe("GW_ERR_USAGE");
    const text = await req("/v1/tools/workspace__read/call", "agent", {
      method: "POST",
      body: "hi",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    const deep = await req("/v1/tools/workspace__read/call", "agent", {
      method: "POST",
      body: `{"arguments":${"[".repeat(100)}${"]".repeat(100)}}`,
      headers: { "content-type": "application/json" },
    });
    expect(deep.status).toBe(400);
    const extra = await req("/v1/tools/workspace__read/call", "agent", {
      method: "POST",
      json: { argumentz: {} },
    });
    expect(extra.status).toBe(400);
    const big = await req("/v1/tools/workspace__read/call", "agent", {
      method: "POST",
      json: { arguments: { path: "x".repeat(5 * 1024 * 1024) } },
    });
    expect(big.status).toBe(413);
  });

  it("ask_user → pending_approval; an approver approves; the retried call completes once", async () => {
    const call = () =>
      req("/v1/tools/memory__upsert/call", "agent", {
        method: "POST",
        json: { arguments: { id: "m1", text: "remember me" }, session: "s-rest-1" },
      });
    const first = await call();
    expect(first.status).toBe(202);
    const pending = (await first.json()) as {
      status: string;
      approval: { id: string; url: string; expires_at: string };
    };
    expect(pending.status).toBe("pending_approval");
    expect(pending.approval.expires_at).toBeTruthy();

    const listed = (await (await req("/v1/approvals", "boss")).json()) as { approvals: { id: string }[] };
    expect(listed.approvals.map((a) => a.id)).toContain(pending.approval.id);
    // eve (no approver role) does not see it, and the policy refuses her answer and the agent's
    // own (four eyes), each a 403 problem with the policy's reason code, audited
    expect(
      ((await (await req("/v1/approvals", "eve")).json()) as { approvals: unknown[] }).approvals,
    ).toEqual([]);
    const byEve = await req(pending.approval.url, "eve", { method: "POST", json: { decision: "approve" } });
    expect(byEve.status).toBe(403);
    expect(byEve.headers.get("content-type")).toContain("application/problem+json");
    const eveProblem = (await byEve.json()) as { code: string; reasons: { code: string }[] };
    expect(eveProblem.code).toBe("GW_ERR_FORBIDDEN");
    expect(eveProblem.reasons.map((r) => r.code)).toContain("APPROVER_NOT_PERMITTED");
    const bySelf = await req(pending.approval.url, "agent", {
      method: "POST",
      json: { decision: "approve" },
    });
    expect(bySelf.status).toBe(403);
    const selfProblem = (await bySelf.json()) as { reasons: { code: string }[] };
    expect(selfProblem.reasons.map((r) => r.code)).toContain("SELF_APPROVAL_FORBIDDEN");
    const still = (await (await req(`/v1/approvals/${pending.approval.id}`, "agent")).json()) as {
      state: string;
    };
    expect(still.state).toBe("pending");
    const refusals = await (await req(`/v1/audit?kind=admin&id=${pending.approval.id}`, "boss")).text();
    expect(refusals).toContain("APPROVER_NOT_PERMITTED");
    expect(refusals).toContain("SELF_APPROVAL_FORBIDDEN");

    // the agent long-polls its approval while the approver answers
    const waiting = req(`${pending.approval.url}?wait_s=5`, "agent");
    const answer = await req(pending.approval.url, "boss", { method: "POST", json: { decision: "approve" } });
    expect(answer.status).toBe(200);
    expect(((await (await waiting).json()) as { state: string }).state).toBe("granted");

    const second = await call();
    expect(second.status).toBe(200);
    const done = (await second.json()) as { status: string; reasons: { code: string }[] };
    expect(done.status).toBe("ok");
    expect(done.reasons.map((r) => r.code)).toContain("APPROVAL_GRANTED");
    // one-shot: the next identical call asks again
    expect((await call()).status).toBe(202);
  });

  it("a denied approval makes the retried call a denial", async () => {
    const call = () =>
      req("/v1/tools/memory__upsert/call", "agent", {
        method: "POST",
        json: { arguments: { id: "m2", text: "no" } },
      });
    const { approval } = (await (await call()).json()) as { approval: { url: string } };
    expect((await req(approval.url, "boss", { method: "POST", json: { decision: "deny" } })).status).toBe(
      200,
    );
    const again = await req(approval.url, "boss", { method: "POST", json: { decision: "approve" } });
    expect(again.status).toBe(409);
    const retried = await call();
    expect(retried.status).toBe(403);
    expect(((await retried.json()) as { reasons: { code: string }[] }).reasons.map((r) => r.code)).toContain(
      "APPROVAL_DENIED",
    );
  });

  it("long-polls for new approvals", async () => {
    const since = new Date().toISOString();
    const empty = await req(`/v1/approvals?wait_s=0.2&after=${encodeURIComponent(since)}`, "boss");
    expect(((await empty.json()) as { approvals: unknown[] }).approvals).toEqual([]);
    const waiting = req(`/v1/approvals?wait_s=5&after=${encodeURIComponent(since)}`, "boss");
    await new Promise((r) => setTimeout(r, 150));
    await req("/v1/tools/memory__upsert/call", "agent", {
      method: "POST",
      json: { arguments: { id: "m3", text: "later" } },
    });
    const got = (await (await waiting).json()) as { approvals: { tool: string }[] };
    expect(got.approvals.map((a) => a.tool)).toEqual(["memory__upsert"]);
    expect((await req("/v1/approvals?wait_s=999", "boss")).status).toBe(400);
  });

  it("streams progress/session events then the result with Accept: text/event-stream", async () => {
    const r = await req("/v1/tools/workspace__read/call", "agent", {
      method: "POST",
      headers: { accept: "text/event-stream" },
      json: { arguments: { path: "hello.txt" }, session: "s-rest-sse" },
    });
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await r.text();
    expect(text).toContain("event: session");
    expect(text).toContain('"call.started"');
    const result = /event: result\ndata: (.*)\n/.exec(text);
    expect(JSON.parse(result![1]!)).toMatchObject({ status: "ok" });
  });

  it("replays session events as SSE, resumable by Last-Event-ID, only to the owner or approvers", async () => {
    const all = await (await req("/v1/sessions/s-rest-1/events?follow=false", "agent")).text();
    const ids = [...all.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThanOrEqual(4);
    expect(all).toContain("event: approval.requested");
    expect(all).toContain("event: approval.resolved");
    const resumed = await (
      await req("/v1/sessions/s-rest-1/events?follow=false", "agent", {
        headers: { "last-event-id": String(ids[1]) },
      })
    ).text();
    expect([...resumed.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual(ids.slice(2));
    expect((await req("/v1/sessions/s-rest-1/events?follow=false", "eve")).status).toBe(404);
    expect((await req("/v1/sessions/s-rest-1/events?follow=false", "boss")).status).toBe(200);
    const taken = await req("/v1/tools/workspace__read/call", "eve", {
      method: "POST",
      json: { arguments: { path: "hello.txt" }, session: "s-rest-1" },
    });
    expect(taken.status).toBe(403);
  });

  it("queries the audit log by principal, tool and decision, paginated; verifies it", async () => {
    const q = await req("/v1/audit?tool=memory__upsert&decision=ask_user&limit=2", "boss");
    expect(q.status).toBe(200);
    const page = (await q.json()) as {
      records: { seq: number; decision: string; target: { name: string } }[];
      next?: string;
    };
    expect(page.records).toHaveLength(2);
    expect(page.records.every((r) => r.decision === "ask_user" && r.target.name === "memory__upsert")).toBe(
      true,
    );
    expect(page.next).toBeDefined();
    const page2 = (await (
      await req(`/v1/audit?tool=memory__upsert&decision=ask_user&limit=2&after=${page.next}`, "boss")
    ).json()) as {
      records: { seq: number }[];
    };
    expect(page2.records[0]!.seq).toBeGreaterThan(page.records[1]!.seq);
    const admin = (await (await req("/v1/audit?kind=admin", "boss")).json()) as {
      records: { reasons: { code: string }[] }[];
    };
    // each answer carries the policy's verdict on the approver, then the answer itself
    expect(admin.records.flatMap((r) => r.reasons.map((x) => x.code))).toEqual(
      expect.arrayContaining(["APPROVER_PERMITTED", "APPROVAL_GRANTED", "APPROVAL_DENIED"]),
    );
    // a non-approver sees only its own records
    const mine = (await (await req("/v1/audit", "eve")).json()) as {
      records: { principal: { id: string } }[];
    };
    expect(mine.records.every((r) => r.principal.id === "eve")).toBe(true);
    expect((await req("/v1/audit?principal=agent", "eve")).status).toBe(403);
    expect((await req("/v1/audit?since=yesterday", "boss")).status).toBe(400);
    const future = (await (
      await req(`/v1/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, "boss")
    ).json()) as { records: unknown[] };
    expect(future.records).toEqual([]);
    const v = await req("/v1/audit/verify", "boss");
    expect(v.status).toBe(200);
    expect(await v.json()).toMatchObject({ ok: true });
    expect((await req("/v1/audit/verify", "eve")).status).toBe(403);
  });

  it("serves readiness and Prometheus metrics", async () => {
    const ready = await gateway.app.app.request("http://127.0.0.1/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { policy: true, audit: true } });
    const m = await (await gateway.app.app.request("http://127.0.0.1/metrics")).text();
    expect(m).toMatch(/^portcullis_calls_total\{tool="workspace__read",status="ok"\} [1-9]/m);
    expect(m).toMatch(/^portcullis_decisions_total\{decision="ask_user",reason="REQUIRES_APPROVAL"\} [1-9]/m);
    expect(m).toMatch(/^portcullis_decisions_total\{decision="deny",reason="DENIED_BY_RULE"\} [1-9]/m);
    expect(m).toMatch(/^portcullis_call_duration_seconds_count [1-9]/m);
    expect(m).toContain('portcullis_call_duration_seconds_bucket{le="+Inf"}');
  });
});
