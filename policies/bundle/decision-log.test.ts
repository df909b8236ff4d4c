import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { PolicyInput } from "../../contracts/index.js";
import { createDecisionService } from "../service.js";
import { type DecisionLogEvent, DecisionLogger } from "./decision-log.js";
import { aliceReads } from "./fixtures/bundles.js";

const scratch = mkdtempSync(join(tmpdir(), "portcullis-dlog-"));
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(scratch, { recursive: true, force: true });
});

/** A decision-log sink answering with `statuses` in turn (then 200), collecting the batches. */
async function sink(statuses: number[]) {
  const batches: DecisionLogEvent[][] = [];
  const seen: Array<{ status: number; encoding?: string }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = statuses.shift() ?? 200;
      seen.push({
        status,
        ...(req.headers["content-encoding"] ? { encoding: req.headers["content-encoding"] } : {}),
      });
      if (status === 200) batches.push(JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()));
      res.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`, batches, seen };
}

const withSecret = {
  ...aliceReads,
  arguments: { q: "ok", auth: { token: "ghp_secretsecret" } },
  data_classes: ["secret"],
  findings: [{ class: "secret", detector: "github_token", path: "/auth/token" }],
} as PolicyInput;

async function until(check: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("DecisionLogger", () => {
  it("writes masked OPA events to a file and to an HTTP sink, requeueing after failures", async () => {
    const s = await sink([500, 503]);
    const file = join(scratch, "decisions.jsonl");
    const logger = new DecisionLogger({
      file,
      labels: { env: "test" },
      sink: { url: s.url, minDelaySeconds: 0.02, maxDelaySeconds: 0.2 },
    }).attach();
    const service = await createDecisionService({ engine: "ts", cacheSize: 0 });
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await service.decide(i === 0 ? withSecret : aliceReads));
    await until(() => s.batches.flat().length === 5);
    await logger.close();
    await service.close();

    expect(s.seen.slice(0, 3).map((x) => x.status)).toEqual([500, 503, 200]);
    expect(s.seen.every((x) => x.encoding === "gzip")).toBe(true);
    expect(logger.stats()).toMatchObject({ logged: 5, uploaded: 5, upload_failures: 2, dropped: 0 });
    const events = s.batches.flat();
    expect(events.map((e) => e.decision_id)).toEqual(decisions.map((d) => d.decision_id));
    const first = events[0] as DecisionLogEvent;
    expect(first).toMatchObject({
      labels: { env: "test", app: "portcullis" },
      bundles: { portcullis: { revision: service.revision } },
      path: "portcullis/gateway/decision",
      req_id: "r1",
      result: { decision: decisions[0]?.decision },
      masked: ["/input/arguments/auth/token"],
    });
    expect(JSON.stringify(first)).not.toContain("ghp_secretsecret");
    expect(first.metrics.timer_rego_query_eval_ns).toBeGreaterThan(0);
    expect(Date.parse(first.timestamp)).not.toBeNaN();

    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).not.toContain("ghp_secretsecret");
  });

  it("splits uploads into batches bounded in events and bytes", async () => {
    const s = await sink([]);
    const logger = new DecisionLogger({
      sink: { url: s.url, minDelaySeconds: 60, maxDelaySeconds: 60, maxBatchEvents: 4, maxBatchBytes: 3000 },
    });
    const service = await createDecisionService({ engine: "ts" });
    for (let i = 0; i < 10; i++)
      logger.log({ input: aliceReads, decision: await service.decide(aliceReads), duration_ns: 1 });
    expect(await logger.flush()).toBe(true);
    const sizes = s.batches.map((b) => b.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    for (const b of s.batches) if (b.length > 1) expect(JSON.stringify(b).length).toBeLessThanOrEqual(3000);
    await logger.close();
    await service.close();
  });

  it("erases arguments when a redacted class cannot be located", async () => {
    const logger = new DecisionLogger({ file: join(scratch, "erase.jsonl") });
    const service = await createDecisionService({ engine: "ts" });
    const input = {
      ...withSecret,
      findings: [{ class: "secret", detector: "x", path: "$.weird" }],
    } as PolicyInput;
    const decision = await service.decide(input);
    logger.log({ input, decision, duration_ns: 1 });
    await logger.close();
    const event = JSON.parse(readFileSync(join(scratch, "erase.jsonl"), "utf8")) as DecisionLogEvent;
    expect(event.erased).toEqual(["/input/arguments"]);
    expect((event.input as PolicyInput).arguments).toEqual({});
  });

  it("bounds its buffer and counts what it drops while the sink is down", async () => {
    const s = await sink(Array(100).fill(503));
    const logger = new DecisionLogger({
      sink: { url: s.url, minDelaySeconds: 60, maxDelaySeconds: 60 },
      maxBufferEvents: 5,
    });
    const service = await createDecisionService({ engine: "ts" });
    for (let i = 0; i < 12; i++)
      logger.log({ input: aliceReads, decision: await service.decide(aliceReads), duration_ns: 1 });
    expect(await logger.flush()).toBe(false);
    expect(logger.stats()).toMatchObject({ logged: 12, buffered: 5, dropped: 7, upload_failures: 1 });
    expect(logger.metricsText()).toMatch(/portcullis_decision_logs_dropped_total 7/);
    await logger.close();
    await service.close();
  });
});
