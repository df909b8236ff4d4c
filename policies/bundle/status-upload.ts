/**
 * Optional status upload, as OPA's status plugin does it: `POST <url>` with a JSON body
 * `{labels, bundles: {name: status}, decision_logs?}` shortly after every activation or failure
 * and again at a jittered period, so a control plane sees what each gateway runs and why it
 * refused a bundle. Uploads are best effort: a failure is counted and retried at the next turn,
 * never blocks activation, and the body never carries keys or tokens.
 */
import { randomUUID } from "node:crypto";
import { type Dispatcher, request } from "undici";
import { errorMessage } from "../../gateway/errors.js";
import type { BundleActivator } from "./activator.js";
import type { DecisionLogger } from "./decision-log.js";

export interface StatusUploadOptions {
  activator: BundleActivator;
  url: string;
  bearerToken?: () => string;
  labels?: Record<string, string>;
  decisionLog?: DecisionLogger;
  /** Period between uploads without changes, jittered between min and max. Default 30–60 s. */
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
  /** Delay between a change and its upload, coalescing bursts. Default 100 ms. */
  debounceMs?: number;
  dispatcher?: Dispatcher;
}

export class StatusReporter {
  readonly #o: StatusUploadOptions;
  readonly #labels: Record<string, string>;
  #timer: NodeJS.Timeout | undefined;
  #off: (() => void) | undefined;
  #inflight: Promise<boolean> | undefined;
  #running = false;
  uploads = 0;
  failures = 0;
  lastError: string | undefined;

  constructor(opts: StatusUploadOptions) {
    this.#o = opts;
    this.#labels = { id: randomUUID(), app: "portcullis", version: "0.1.0", ...opts.labels };
  }

  /** The document uploaded: OPA's status shape. */
  document(): Record<string, unknown> {
    const status = this.#o.activator.status();
    return {
      labels: this.#labels,
      bundles: { [status.name]: status },
      ...(this.#o.decisionLog ? { decision_logs: this.#o.decisionLog.stats() } : {}),
    };
  }

  async uploadOnce(): Promise<boolean> {
    try {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (this.#o.bearerToken) headers.authorization = `Bearer ${this.#o.bearerToken()}`;
      const res = await request(this.#o.url, {
        method: "POST",
        headers,
        body: JSON.stringify(this.document()),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
        ...(this.#o.dispatcher ? { dispatcher: this.#o.dispatcher } : {}),
      });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode > 299)
        throw new Error(`status sink answered HTTP ${res.statusCode}`);
      this.uploads++;
      return true;
    } catch (e) {
      this.failures++;
      this.lastError = errorMessage(e);
      return false;
    }
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#inflight = this.uploadOnce();
      void this.#inflight.then(() => this.#schedule(this.#periodMs()));
    }, ms);
    this.#timer.unref?.();
  }

  #periodMs(): number {
    const min = this.#o.minDelaySeconds ?? 30;
    const max = this.#o.maxDelaySeconds ?? 60;
    return Math.round((min + Math.random() * (max - min)) * 1000);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#off = this.#o.activator.tracker.onChange(() => this.#schedule(this.#o.debounceMs ?? 100));
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#off?.();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#inflight;
  }
}
