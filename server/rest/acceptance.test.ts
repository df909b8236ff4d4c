/**
 * Acceptance of issue 5 over a real socket: an agent script using only `fetch` lists tools, calls
 * one, gets an ask_user pending result, an approver (another principal, also only `fetch`)
 * approves it through the API, the agent's retry completes, and the whole exchange appears in
 * `/v1/audit` and, live over SSE, in `/v1/sessions/{id}/events`.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { approvalFlowPolicyData, fetchJson, TestGateway } from "./test-support.js";

const AGENT = "acceptance-agent-key-0123456789";
const APPROVER = "acceptance-approver-key-0123456789";
const gateway = new TestGateway({
  name: "rest-e2e",
  envPrefix: "PC_E2E",
  keys: {
    agent: { id: "agent-7", secret: AGENT, roles: ["user"] },
    approver: { id: "ops-lead", secret: APPROVER, roles: ["approver"] },
  },
  policyData: approvalFlowPolicyData(),
});
let base: string;

beforeAll(async () => {
  await gateway.start();
  base = (await gateway.listen()).base;
});
afterAll(() => gateway.close());

const api = (key: string) => (path: string, body?: unknown) => fetchJson(base, key, path, body);

/** Reads SSE events of a session until `until` says stop (bounded by a timeout). */
async function watchSession(key: string, session: string, until: (events: { kind: string }[]) => boolean) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 10_000);
  const r = await fetch(`${base}/v1/sessions/${session}/events`, {
    headers: { authorization: `Bearer ${key}`, accept: "text/event-stream" },
    signal: ctl.signal,
  });
  expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const events: { seq: number; kind: string; data: Record<string, unknown> }[] = [];
  let buf = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of r.body!) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      let i = buf.indexOf("\n\n");
      while (i >= 0) {
        const data = /^data: (.*)$/m.exec(buf.slice(0, i))?.[1];
        if (data) events.push(JSON.parse(data));
        buf = buf.slice(i + 2);
        i = buf.indexOf("\n\n");
      }
      if (until(events)) break;
    }
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
  return events;
}

it("an agent using only fetch: list, call, pending approval, approval through the API, completion, audit and session events", async () => {
  const agent = api(AGENT);
  const approver = api(APPROVER);
  const session = "agent-7-run-1";

  // 1. list
  const tools = await agent("/v1/tools");
  expect(tools.status).toBe(200);
  expect(tools.body.tools.map((t: { name: string }) => t.name)).toContain("memory__upsert");

  // a session event watcher (the agent's own dashboard) — the session is claimed by the first call
  const call = { arguments: { id: "fact-1", text: "the build is green" }, session };
  // 2. call → ask_user → pending
  const pending = await agent("/v1/tools/memory__upsert/call", call);
  expect(pending.status).toBe(202);
  expect(pending.body.status).toBe("pending_approval");
  const approvalId: string = pending.body.approval.id;
  const watching = watchSession(
    AGENT,
    session,
    (ev) => ev.filter((e) => e.kind === "call.completed").length >= 2,
  );

  // 3. the approver finds it and approves it; the agent long-polls the answer
  const queue = await approver("/v1/approvals?wait_s=5");
  const item = queue.body.approvals.find((a: { id: string }) => a.id === approvalId);
  expect(item).toMatchObject({ principal: "agent-7", tool: "memory__upsert", state: "pending" });
  const answered = agent(`/v1/approvals/${approvalId}?wait_s=10`);
  expect((await approver(`/v1/approvals/${approvalId}`, { decision: "approve" })).status).toBe(200);
  expect((await answered).body.state).toBe("granted");

  // 4. the retry completes
  const done = await agent("/v1/tools/memory__upsert/call", call);
  expect(done.status).toBe(200);
  expect(done.body.status).toBe("ok");
  expect(done.body.reasons.map((r: { code: string }) => r.code)).toContain("APPROVAL_GRANTED");
  const recall = await agent("/v1/tools/memory__query/call", { arguments: { text: "build green", k: 1 } });
  expect(JSON.stringify(recall.body.content)).toContain("the build is green");

  // 5. the whole exchange in the session events (SSE over the socket, replayed then live)
  const events = await watching;
  const kinds = events.map((e) => e.kind);
  expect(kinds).toEqual([
    "approval.requested",
    "call.started",
    "call.completed",
    "approval.resolved",
    "call.started",
    "call.completed",
  ]);
  expect(events[3]!.data).toMatchObject({ approval_id: approvalId, granted: true, by: "ops-lead" });
  expect(events[5]!.data).toMatchObject({ status: "ok" });

  // 6. … and in the audit log: decision + outcome of both calls, and the approver's answer
  const audit = await approver(`/v1/audit?session=${session}`);
  const rows = audit.body.records.map(
    (r: { kind: string; decision?: string; outcome?: { status: string }; principal: { id: string } }) => [
      r.kind,
      r.decision,
      r.outcome?.status,
      r.principal.id,
    ],
  );
  expect(rows).toEqual([
    ["decision", "ask_user", undefined, "agent-7"],
    ["outcome", "ask_user", "pending_approval", "agent-7"],
    ["admin", "allow", undefined, "ops-lead"],
    ["decision", "allow", undefined, "agent-7"],
    ["outcome", "allow", "ok", "agent-7"],
  ]);
  expect((await approver("/v1/audit/verify")).body).toMatchObject({ ok: true });
}, 30_000);
