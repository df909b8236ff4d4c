/**
 * Several instances sharing one real Redis (issue 5, item 4): a `redis-server` started on a free
 * loopback port and two `portcullis serve --store redis://…` processes, each with its own folder,
 * audit log and port. An ask_user call pending on A is approved through B and its retry on A
 * completes (with the events visible on B's SSE); a rate limit of N calls per minute holds across
 * both; killing Redis makes calls that need shared state fail closed with STORE_UNAVAILABLE (503)
 * and `/readyz` say so; restarting Redis on the same port brings both back without a restart.
 * Needs `npm run build` (the instances run bin/portcullis.js) and the Debian package
 * `redis-server` — missing either fails the test with a message, never a skip.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type RedisServer, startRedisServer } from "../../gateway/store/redis-server.js";
import { approvalFlowPolicyData, fetchJson } from "./test-support.js";

const root = join(import.meta.dirname, "../..");
const KEYS = {
  agent: "multi-agent-key-0123456789abcdef",
  rater: "multi-rater-key-0123456789abcdef",
  approver: "multi-approver-key-0123456789abcd",
};
const RATE_BURST = 4;

let scratch: string;
let redis: RedisServer;
const instances: Array<{ child: ChildProcess; base: string; log: () => string }> = [];

async function startInstance(name: string, storeUrl: string) {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  writeFileSync(join(dir, "data.json"), JSON.stringify(approvalFlowPolicyData()));
  writeFileSync(
    join(dir, "portcullis.json"),
    JSON.stringify({
      server: { host: "127.0.0.1", port },
      auth: {
        apiKeys: [
          { id: "agent-1", key: "env:PC_MI_AGENT", roles: ["user"] },
          { id: "rater", key: "env:PC_MI_RATER", roles: ["user"] },
          { id: "ops", key: "env:PC_MI_APPROVER", roles: ["approver"] },
        ],
      },
      policy: { data: "data.json" },
      limits: { rate: { perMinute: 1, burst: RATE_BURST } },
      audit: { dir: "audit" },
    }),
  );
  let log = "";
  const child = spawn(
    process.execPath,
    [join(root, "bin/portcullis.js"), "serve", "--config", join(dir, "portcullis.json"), "--store", storeUrl],
    {
      cwd: dir,
      env: {
        ...process.env,
        PC_MI_AGENT: KEYS.agent,
        PC_MI_RATER: KEYS.rater,
        PC_MI_APPROVER: KEYS.approver,
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const listening = new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within 20 s: ${log}`)), 20_000);
    child.stderr?.on("data", (d) => {
      log += d.toString();
      if (log.includes("listening on")) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${name} exited with ${code}: ${log}`));
    });
  });
  instances.push({ child, base: `http://127.0.0.1:${port}`, log: () => log });
  await listening;
  return `http://127.0.0.1:${port}`;
}

/** Reads an SSE stream until `until` holds for the events seen, or the time is up. */
async function sseEvents(url: string, key: string, until: (kinds: string[]) => boolean, ms = 10_000) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), ms);
  const kinds: string[] = [];
  try {
    const r = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: ctl.signal });
    expect(r.status).toBe(200);
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    while (!until(kinds)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (.+)$/m.exec(frame);
        if (ev) kinds.push(ev[1]!);
      }
    }
  } catch (e) {
    if (!ctl.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
  return kinds;
}

let A: string;
let B: string;

beforeAll(async () => {
  expect(existsSync(join(root, "dist/cli.js")), "run `npm run build` first").toBe(true);
  scratch = mkdtempSync(join(tmpdir(), "portcullis-multi-"));
  redis = await startRedisServer();
  [A, B] = await Promise.all([startInstance("a", redis.url), startInstance("b", redis.url)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(
    instances.map(
      ({ child }) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
          child.once("exit", () => {
            clearTimeout(kill);
            done();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
  await redis?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 20_000);

describe("two instances sharing Redis", () => {
  it("an ask_user call pending on A is approved through B and its retry on A completes", async () => {
    const session = "multi-session-1";
    const call = { arguments: { id: "fact-1", text: "shared state works" }, session };
    const pending = await fetchJson(A, KEYS.agent, "/v1/tools/memory__upsert/call", call);
    expect(pending.status, JSON.stringify(pending.body)).toBe(202);
    const id = pending.body.approval.id as string;
    const onB = await fetchJson(B, KEYS.approver, "/v1/approvals");
    expect(onB.body.approvals.map((a: { id: string }) => a.id)).toContain(id);
    // B's SSE for the session (created on A) sees A's events; watch it while the approval lands.
    const watched = sseEvents(
      `${B}/v1/sessions/${session}/events`,
      KEYS.approver,
      (k) => k.filter((x) => x === "call.completed").length >= 2,
    );
    const answered = await fetchJson(B, KEYS.approver, `/v1/approvals/${id}`, { decision: "approve" });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ state: "granted", resolved_by: "ops" });
    const seenOnA = await fetchJson(A, KEYS.agent, `/v1/approvals/${id}`);
    expect(seenOnA.body.state).toBe("granted");
    const done = await fetchJson(A, KEYS.agent, "/v1/tools/memory__upsert/call", call);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe("ok");
    expect(done.body.reasons.map((r: { code: string }) => r.code)).toContain("APPROVAL_GRANTED");
    // The one-shot grant was used on A: the same call on B asks again.
    expect((await fetchJson(B, KEYS.agent, "/v1/tools/memory__upsert/call", call)).status).toBe(202);
    const kinds = await watched;
    // The pending call, the answer given on B, the retry that ran on A — in order, on B.
    expect(kinds.slice(0, 6)).toEqual([
      "approval.requested",
      "call.started",
      "call.completed",
      "approval.resolved",
      "call.started",
      "call.completed",
    ]);
    // The session was claimed on A: on B it still belongs to agent-1, not to the rater.
    const foreign = await fetchJson(B, KEYS.rater, "/v1/tools/memory__query/call", {
      arguments: { text: "x" },
      session,
    });
    expect(foreign.status).toBe(403);
    expect(foreign.type).toContain("application/problem+json");
  }, 60_000);

  it(`a rate limit of ${RATE_BURST} calls holds across both instances`, async () => {
    const statuses: number[] = [];
    const codes: string[] = [];
    for (let i = 0; i < RATE_BURST + 2; i++) {
      const r = await fetchJson(i % 2 ? B : A, KEYS.rater, "/v1/tools/memory__query/call", {
        arguments: { text: "shared", k: 1 },
      });
      statuses.push(r.status);
      codes.push(...(r.body.reasons ?? []).map((x: { code: string }) => x.code));
    }
    expect(statuses).toEqual([...Array(RATE_BURST).fill(200), 403, 403]);
    expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(2);
  }, 30_000);

  it("fails closed while Redis is down and recovers by itself when it returns", async () => {
    await redis.stop();
    const ready = await fetchJson(A, KEYS.agent, "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.checks.store.ok).toBe(false);
    const call = await fetchJson(A, KEYS.agent, "/v1/tools/memory__query/call", { arguments: { text: "x" } });
    expect(call.status).toBe(503);
    expect(call.body.status).toBe("denied");
    expect(call.body.reasons.map((r: { code: string }) => r.code)).toContain("STORE_UNAVAILABLE");
    const list = await fetchJson(B, KEYS.approver, "/v1/approvals");
    expect(list.status).toBe(503);
    expect(list.type).toContain("application/problem+json");
    expect(list.body.code).toBe("GW_ERR_STORE_UNAVAILABLE");

    await redis.restart();
    for (const base of [A, B]) {
      await expect
        .poll(async () => (await fetchJson(base, KEYS.agent, "/readyz")).status, {
          timeout: 15_000,
          interval: 200,
        })
        .toBe(200);
    }
    const again = await fetchJson(B, KEYS.agent, "/v1/tools/memory__query/call", {
      arguments: { text: "x" },
    });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    const pending = await fetchJson(A, KEYS.agent, "/v1/tools/memory__upsert/call", {
      arguments: { id: "fact-2", text: "after the outage" },
    });
    expect(pending.status).toBe(202);
    expect(instances.every((i) => i.child.exitCode === null)).toBe(true);
  }, 60_000);
});
