/**
 * Decision logs in OPA's event format (`labels`, `decision_id`, `bundles{name:{revision}}`,
 * `path`, `input`, `result`, `timestamp`, `metrics`, `req_id`, `erased`, `masked`), fed from the
 * decision service's `portcullis:decision` channel. Inputs are masked per the decision's
 * `obligations.redact` before they leave the process: values the sanitizer located are replaced,
 * and when a redacted class has no locatable finding the whole `arguments` object is erased.
 * Events go to a local JSONL file and/or an HTTP sink as gzip JSON arrays; a failed upload
 * (network or non-2xx) puts its batch back and backs off exponentially with jitter. The buffer is
 * bounded: overflow drops the oldest events and counts them, never silently.
 */
import { randomUUID } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createWriteStream, type WriteStream } from "node:fs";
import { gzipSync } from "node:zlib";
import { type Dispatcher, request } from "undici";
import type { PolicyInput } from "../../contracts/index.js";
import { DEFAULT_ENTRYPOINT } from "../engine.js";
import { type DecisionMessage, decisionChannel, type StampedDecision } from "../service.js";

export interface DecisionLogEvent {
  labels: Record<string, string>;
  decision_id: string;
  bundles: Record<string, { revision: string }>;
  path: string;
  input: unknown;
  result: unknown;
  timestamp: string;
  metrics: { timer_rego_query_eval_ns: number };
  req_id?: string;
  erased?: string[];
  masked?: string[];
}

export interface DecisionLogSink {
  url: string;
  bearerToken?: () => string;
  /** Delay between uploads, jittered between min and max; the backoff ceiling too. */
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
  /** Most events per uploaded batch. Default 500. */
  maxBatchEvents?: number;
  /** Most bytes of JSON per batch before compression (one larger event goes alone). Default 1 MiB. */
  maxBatchBytes?: number;
  dispatcher?: Dispatcher;
}

export interface DecisionLoggerOptions {
  bundleName?: string;
  labels?: Record<string, string>;
  /** Local JSONL file (appended). */
  file?: string;
  sink?: DecisionLogSink;
  /** Most events held for upload; the oldest are dropped (and counted) beyond it. Default 10,000. */
  maxBufferEvents?: number;
  clock?: () => Date;
  random?: () => number;
}

export interface DecisionLogStats {
  logged: number;
  buffered: number;
  uploaded: number;
  dropped: number;
  upload_failures: number;
  last_upload_error?: string;
}

const MASK = "**REDACTED**";

function pointerParts(path: string): string[] | undefined {
  if (!path.startsWith("/")) return undefined;
  return path
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The input with redacted classes masked, plus OPA's `erased` / `masked` path lists. */
export function maskInput(
  input: PolicyInput,
  decision: StampedDecision,
): Pick<DecisionLogEvent, "input" | "erased" | "masked"> {
  const redact = new Set(decision.obligations?.redact ?? []);
  const hit = input.data_classes.filter((c) => redact.has(c));
  if (hit.length === 0) return { input };
  const copy = structuredClone(input) as PolicyInput & { arguments: Record<string, unknown> };
  const masked: string[] = [];
  const classesMasked = new Set<string>();
  for (const f of input.findings ?? []) {
    if (!redact.has(f.class)) continue;
    const parts = pointerParts(f.path.replace(/^\/?arguments(?=\/|$)/, ""));
    let node: unknown = copy.arguments;
    for (const p of parts?.slice(0, -1) ?? []) node = (node as Record<string, unknown> | undefined)?.[p];
    const last = parts?.at(-1);
    if (parts && last !== undefined && node && typeof node === "object" && last in node) {
      (node as Record<string, unknown>)[last] = MASK;
      masked.push(`/input/arguments${f.path.replace(/^\/?arguments(?=\/|$)/, "")}`);
      classesMasked.add(f.class);
    }
  }
  if (hit.every((c) => classesMasked.has(c))) return { input: copy, masked };
  copy.arguments = {};
  return { input: copy, erased: ["/input/arguments"] };
}

export class DecisionLogger {
  readonly #o: DecisionLoggerOptions;
  readonly #labels: Record<string, string>;
  readonly #buffer: DecisionLogEvent[] = [];
  readonly #stats: DecisionLogStats = { logged: 0, buffered: 0, uploaded: 0, dropped: 0, upload_failures: 0 };
  readonly #listener = (m: unknown) => this.log(m as DecisionMessage);
  #file: WriteStream | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #uploading: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(opts: DecisionLoggerOptions) {
    this.#o = opts;
    this.#labels = { id: randomUUID(), app: "portcullis", version: "0.1.0", ...opts.labels };
    if (opts.file) this.#file = createWriteStream(opts.file, { flags: "a", mode: 0o600 });
    if (opts.sink) this.#schedule(this.#delayMs());
  }

  /** Listens on `portcullis:decision` until {@link close}. */
  attach(): this {
    subscribe(decisionChannel.name, this.#listener);
    return this;
  }

  /** Records one decision (called by the channel listener; public for direct use). */
  log(m: DecisionMessage): void {
    if (this.#closed) return;
    const {
      decision_id,
      revision,
      policy_hash: _hash,
      engine: _engine,
      cached: _cached,
      ...result
    } = m.decision;
    const event: DecisionLogEvent = {
      labels: this.#labels,
      decision_id,
      bundles: { [this.#o.bundleName ?? "portcullis"]: { revision } },
      path: DEFAULT_ENTRYPOINT,
      ...maskInput(m.input, m.decision),
      result,
      timestamp: (this.#o.clock?.() ?? new Date()).toISOString(),
      metrics: { timer_rego_query_eval_ns: m.duration_ns },
      req_id: m.input.context.request_id,
    };
    this.#stats.logged++;
    this.#file?.write(`${JSON.stringify(event)}\n`);
    if (!this.#o.sink) return;
    this.#buffer.push(event);
    this.#trim();
  }

  #trim(): void {
    const max = this.#o.maxBufferEvents ?? 10_000;
    if (this.#buffer.length > max) {
      const over = this.#buffer.length - max;
      this.#buffer.splice(0, over);
      this.#stats.dropped += over;
    }
    this.#stats.buffered = this.#buffer.length;
  }

  #delayMs(): number {
    const min = this.#o.sink?.minDelaySeconds ?? 1;
    const max = this.#o.sink?.maxDelaySeconds ?? 10;
    const base = min + (this.#o.random ?? Math.random)() * (max - min);
    return Math.round(Math.min(max, base * 2 ** this.#failures) * 1000);
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#uploading = this.flush().then(() => this.#schedule(this.#delayMs()));
    }, ms);
    this.#timer.unref?.();
  }

  /** Uploads buffered events batch by batch; stops at the first failure (the batch is requeued). */
  async flush(): Promise<boolean> {
    const sink = this.#o.sink;
    if (!sink) return true;
    while (this.#buffer.length > 0) {
      const batch = this.#takeBatch(sink.maxBatchEvents ?? 500, sink.maxBatchBytes ?? 1024 * 1024);
      let error: string | undefined;
      try {
        const headers: Record<string, string> = {
          "content-type": "application/json",
          "content-encoding": "gzip",
        };
        if (sink.bearerToken) headers.authorization = `Bearer ${sink.bearerToken()}`;
        const res = await request(sink.url, {
          method: "POST",
          headers,
          body: gzipSync(JSON.stringify(batch)),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
          ...(sink.dispatcher ? { dispatcher: sink.dispatcher } : {}),
        });
        await res.body.dump();
        if (res.statusCode < 200 || res.statusCode > 299)
          error = `decision log sink answered HTTP ${res.statusCode}`;
      } catch (e) {
        error = `decision log upload failed: ${(e as Error).message}`;
      }
      if (error) {
        this.#buffer.unshift(...batch);
        this.#trim();
        this.#failures = Math.min(this.#failures + 1, 16);
        this.#stats.upload_failures++;
        this.#stats.last_upload_error = error;
        return false;
      }
      this.#failures = 0;
      this.#stats.uploaded += batch.length;
      this.#stats.buffered = this.#buffer.length;
    }
    return true;
  }

  #takeBatch(maxEvents: number, maxBytes: number): DecisionLogEvent[] {
    let bytes = 2;
    let n = 0;
    while (n < this.#buffer.length && n < maxEvents) {
      bytes += JSON.stringify(this.#buffer[n]).length + 1;
      if (n > 0 && bytes > maxBytes) break;
      n++;
    }
    return this.#buffer.splice(0, n);
  }

  stats(): DecisionLogStats {
    return { ...this.#stats };
  }

  metricsText(): string {
    const s = this.#stats;
    return [
      "# TYPE portcullis_decision_logs_dropped_total counter",
      `portcullis_decision_logs_dropped_total ${s.dropped}`,
      "# TYPE portcullis_decision_logs_uploaded_total counter",
      `portcullis_decision_logs_uploaded_total ${s.uploaded}`,
      "# TYPE portcullis_decision_logs_upload_failures_total counter",
      `portcullis_decision_logs_upload_failures_total ${s.upload_failures}`,
      "# TYPE portcullis_decision_logs_buffered gauge",
      `portcullis_decision_logs_buffered ${s.buffered}`,
      "",
    ].join("\n");
  }

  /** Stops listening, tries one last upload, and closes the file (once; later calls share it). */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    unsubscribe(decisionChannel.name, this.#listener);
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#uploading;
    await this.flush();
    const file = this.#file;
    if (file) await new Promise<void>((r) => file.end(r));
  }
}
