import diagnosticsChannel from "node:diagnostics_channel";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics, type Metrics } from "./metrics.js";

const channel = diagnosticsChannel.channel("portcullis:audit");
const dir = "audit-dir-of-this-test";

function decision(decisionValue: string | undefined, codes: string[]): void {
  channel.publish({
    dir,
    envelope: {
      kind: "decision",
      decision: decisionValue,
      reasons: codes.map((code) => ({ code, message: "m" })),
    },
  });
}

function outcome(tool: string, status: string | undefined, totalMs = 2): void {
  channel.publish({
    dir,
    envelope: {
      kind: "outcome",
      target: { kind: "tool", name: tool },
      ...(status ? { outcome: { status } } : {}),
      timings: { total_ms: totalMs, policy_ms: 0.1 },
    },
  });
}

describe("metrics", () => {
  let metrics: Metrics | undefined;
  afterEach(() => metrics?.close());

  it("counts decisions and calls by their labels and escapes label values at scrape time", () => {
    metrics = createMetrics({
      auditDir: dir,
      upstreams: () => [{ name: 'up"1', state: "ready", restarts: 2 }] as never,
    });
    decision("allow", ["ALLOWED_BY_RULE"]);
    decision("allow", ["ALLOWED_BY_RULE"]);
    decision("deny", ["DENIED_BY_RULE", "DATA_CLASS_SECRET"]);
    decision(undefined, []);
    outcome("echo", "ok");
    outcome("echo", "ok");
    outcome("echo", "error");
    outcome('we\\ird"\nname', undefined, 3000);
    channel.publish({ dir: "another-log", envelope: { kind: "decision", decision: "allow", reasons: [] } });
    channel.publish({ dir, error: new Error("disk full") });
    const text = metrics.render();
    const lines = text.split("\n");
    expect(lines).toContain('portcullis_decisions_total{decision="allow",reason="ALLOWED_BY_RULE"} 2');
    expect(lines).toContain('portcullis_decisions_total{decision="deny",reason="DENIED_BY_RULE"} 1');
    expect(lines).toContain('portcullis_decisions_total{decision="deny",reason="DATA_CLASS_SECRET"} 1');
    expect(lines).toContain('portcullis_decisions_total{decision="none",reason="NONE"} 1');
    expect(lines).toContain('portcullis_calls_total{tool="echo",status="ok"} 2');
    expect(lines).toContain('portcullis_calls_total{tool="echo",status="error"} 1');
    expect(lines).toContain('portcullis_calls_total{tool="we\\\\ird\\"\\nname",status="unknown"} 1');
    expect(lines).toContain("portcullis_call_duration_seconds_count 4");
    expect(lines).toContain('portcullis_call_duration_seconds_bucket{le="2.5"} 3');
    expect(lines).toContain("portcullis_audit_errors_total 1");
    expect(lines).toContain('portcullis_upstream_up{upstream="up\\"1"} 1');
    expect(lines).toContain('portcullis_upstream_restarts_total{upstream="up\\"1"} 2');
    expect(metrics.auditErrors()).toBe(1);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("counts queued records by itself once a batch of 256 waits, without a scrape", async () => {
    metrics = createMetrics({ auditDir: dir, upstreams: () => [] });
    for (let i = 0; i < 255; i++) outcome("echo", "ok");
    await new Promise((r) => setImmediate(r));
    expect(metrics.queued()).toBe(255);
    for (let i = 0; i < 45; i++) outcome("echo", "ok");
    expect(metrics.queued()).toBe(300);
    await new Promise((r) => setImmediate(r));
    expect(metrics.queued()).toBe(0);
    expect(metrics.render().split("\n")).toContain('portcullis_calls_total{tool="echo",status="ok"} 300');
  });

  it("bounds the tool label to the first 1,000 names", () => {
    metrics = createMetrics({ auditDir: dir, upstreams: () => [] });
    for (let i = 0; i < 1002; i++) outcome(`tool${i}`, "ok");
    const lines = metrics.render().split("\n");
    expect(lines.filter((l) => l.startsWith("portcullis_calls_total{")).length).toBe(1001);
    expect(lines).toContain('portcullis_calls_total{tool="_other",status="ok"} 2');
    expect(lines).toContain('portcullis_calls_total{tool="tool999",status="ok"} 1');
  });
});
