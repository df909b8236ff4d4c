/**
 * Prometheus metrics of the gateway, in the text exposition format (0.0.4). Counts come from the
 * audit log's diagnostics channel, so calls through every transport (REST, MCP over HTTP, stdio)
 * are counted exactly once, from the record that proves them: decision records feed
 * `portcullis_decisions_total{decision,reason}`, outcome records feed
 * `portcullis_calls_total{tool,status}` and the latency histograms; upstream health is read at
 * scrape time. Label values are escaped; the tool label is bounded to the first 1,000 names seen.
 * Per record the counters are bumped in nested maps keyed by the raw label values (decision →
 * reason, tool → status); the escaped label text is built only when the metrics are scraped.
 */
import diagnosticsChannel from "node:diagnostics_channel";
import type { UpstreamHealth } from "../../adapters/mcp/upstream.js";
import type { AuditEnvelope } from "../../gateway/audit/index.js";

/** Histogram buckets in seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const MAX_TOOL_LABELS = 1000;

class Histogram {
  readonly counts = new Array<number>(BUCKETS.length).fill(0);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    this.sum += seconds;
    this.count += 1;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) this.counts[i]! += 1;
  }
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",");
  return body ? `{${body}}` : "";
}

/** Counts by two label values: outer value → inner value → count, in first-seen order. */
class Counter2 {
  private readonly byOuter = new Map<string, Map<string, number>>();

  bump(outer: string, inner: string): void {
    let m = this.byOuter.get(outer);
    if (!m) {
      m = new Map();
      this.byOuter.set(outer, m);
    }
    m.set(inner, (m.get(inner) ?? 0) + 1);
  }

  /** Exposition lines `name{outerName="…",innerName="…"} count`. */
  lines(out: string[], name: string, outerName: string, innerName: string): void {
    for (const [outer, m] of this.byOuter) {
      const prefix = `${name}{${outerName}="${escapeLabel(outer)}",${innerName}="`;
      for (const [inner, count] of m) out.push(`${prefix}${escapeLabel(inner)}"} ${count}`);
    }
  }
}

export interface Metrics {
  /** The exposition text. */
  render(): string;
  /** Audit write failures seen so far (readiness). */
  auditErrors(): number;
  /** Audit records received but not counted yet (at most a batch, between I/O callbacks). */
  queued(): number;
  /** Stops listening to the audit channel. */
  close(): void;
}

export function createMetrics(opts: { auditDir: string; upstreams: () => UpstreamHealth[] }): Metrics {
  const decisions = new Counter2();
  const calls = new Counter2();
  const tools = new Set<string>();
  const latency = { total: new Histogram(), policy: new Histogram(), upstream: new Histogram() };
  let auditErrors = 0;

  type AuditMessage = { dir: string; envelope?: AuditEnvelope; error?: unknown };
  // The audit channel publishes inside the log's write, on a call's critical path: a record is
  // only queued there and counted later, in one batch (before every read of the metrics, and after
  // the current I/O callback once BATCH are waiting, so the queue stays short).
  const BATCH = 256;
  let pending: AuditMessage[] = [];
  let drainScheduled = false;
  const drain = () => {
    drainScheduled = false;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    for (const m of batch) count(m);
  };
  const onRecord = (message: unknown) => {
    if ((message as AuditMessage).dir !== opts.auditDir) return;
    pending.push(message as AuditMessage);
    if (pending.length >= BATCH && !drainScheduled) {
      drainScheduled = true;
      setImmediate(drain);
    }
  };

  const count = ({ envelope, error }: AuditMessage) => {
    if (error !== undefined) {
      auditErrors += 1;
      return;
    }
    if (!envelope) return;
    if (envelope.kind === "decision") {
      const decision = envelope.decision ?? "none";
      const reasons = envelope.reasons;
      if (reasons?.length) for (const r of reasons) decisions.bump(decision, r.code);
      else decisions.bump(decision, "NONE");
      return;
    }
    if (envelope.kind !== "outcome") return;
    let tool = envelope.target.name;
    if (!tools.has(tool)) {
      if (tools.size >= MAX_TOOL_LABELS) tool = "_other";
      else tools.add(tool);
    }
    calls.bump(tool, envelope.outcome?.status ?? "unknown");
    const t = envelope.timings;
    if (t) {
      latency.total.observe(t.total_ms / 1000);
      if (t.policy_ms !== undefined) latency.policy.observe(t.policy_ms / 1000);
      if (t.upstream_ms !== undefined) latency.upstream.observe(t.upstream_ms / 1000);
    }
  };
  diagnosticsChannel.subscribe("portcullis:audit", onRecord);

  const counter = (out: string[], name: string, help: string, values: Counter2, labels: [string, string]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    values.lines(out, name, labels[0], labels[1]);
  };
  const histogram = (out: string[], name: string, help: string, h: Histogram) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    BUCKETS.forEach((b, i) => {
      out.push(`${name}_bucket{le="${b}"} ${h.counts[i]}`);
    });
    out.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
  };

  return {
    render() {
      drain();
      const out: string[] = [];
      counter(out, "portcullis_calls_total", "Finished calls by tool and status.", calls, ["tool", "status"]);
      counter(out, "portcullis_decisions_total", "Policy decisions by outcome and reason code.", decisions, [
        "decision",
        "reason",
      ]);
      histogram(out, "portcullis_call_duration_seconds", "Whole call latency.", latency.total);
      histogram(out, "portcullis_policy_duration_seconds", "Policy decision latency.", latency.policy);
      histogram(out, "portcullis_upstream_duration_seconds", "Upstream execution latency.", latency.upstream);
      out.push(
        "# HELP portcullis_audit_errors_total Audit log write failures.",
        "# TYPE portcullis_audit_errors_total counter",
        `portcullis_audit_errors_total ${auditErrors}`,
        "# HELP portcullis_upstream_up 1 when the upstream is ready, 0 otherwise.",
        "# TYPE portcullis_upstream_up gauge",
      );
      const health = opts.upstreams();
      for (const u of health)
        out.push(`portcullis_upstream_up${labels({ upstream: u.name })} ${u.state === "ready" ? 1 : 0}`);
      out.push(
        "# HELP portcullis_upstream_restarts_total Restarts of the upstream process or connection.",
        "# TYPE portcullis_upstream_restarts_total counter",
      );
      for (const u of health)
        out.push(`portcullis_upstream_restarts_total${labels({ upstream: u.name })} ${u.restarts}`);
      return `${out.join("\n")}\n`;
    },
    auditErrors: () => {
      drain();
      return auditErrors;
    },
    queued: () => pending.length,
    close() {
      diagnosticsChannel.unsubscribe("portcullis:audit", onRecord);
      drain();
    },
  };
}
