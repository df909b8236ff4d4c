/**
 * Polls an OPA-compatible bundle service the way OPA does: `GET <url>` with `If-None-Match` set to
 * the active bundle's ETag (304 = nothing new), `Prefer: modes=snapshot`, bearer credentials
 * resolved from a reference at request time, and a random delay between the configured minimum
 * and maximum between polls. With `longPollingTimeoutSeconds` set, each request also sends
 * `Prefer: wait=N`; a server that opts in answers with `Content-Type:
 * application/vnd.openpolicyagent.bundles` and holds the request until something changes, so the
 * next poll starts at once. The body is read with a byte limit; activation is the activator's job.
 */
import { type Dispatcher, request } from "undici";
import { errorMessage } from "../../gateway/errors.js";
import type { BundleActivator } from "./activator.js";

export const LONG_POLL_CONTENT_TYPE = "application/vnd.openpolicyagent.bundles";

export interface HttpBundleSourceOptions {
  activator: BundleActivator;
  /** Full URL of the bundle resource (service URL + resource path). */
  url: string;
  minDelaySeconds: number;
  maxDelaySeconds: number;
  longPollingTimeoutSeconds?: number;
  /** Returns the bearer token (resolved from its reference) for each request. */
  bearerToken?: () => string;
  bearerScheme?: string;
  /** Largest body accepted; default: the activator's compressed limit. */
  maxBytes?: number;
  /** Timeout of a plain (not long-polling) request. Default 30 s. */
  requestTimeoutMs?: number;
  dispatcher?: Dispatcher;
  random?: () => number;
}

export type PollOutcome =
  | { kind: "activated"; revision: string; longPoll: boolean }
  | { kind: "not_modified"; longPoll: boolean }
  | { kind: "failed"; code: string; message: string; longPoll: boolean };

export class HttpBundleSource {
  readonly #o: HttpBundleSourceOptions;
  #timer: NodeJS.Timeout | undefined;
  #inflight: AbortController | undefined;
  #running = false;
  #cycle: Promise<void> | undefined;

  constructor(opts: HttpBundleSourceOptions) {
    if (opts.minDelaySeconds < 0 || opts.maxDelaySeconds < opts.minDelaySeconds)
      throw new RangeError("bundle polling needs 0 <= minDelaySeconds <= maxDelaySeconds");
    this.#o = opts;
  }

  /** The next regular delay, uniformly jittered between min and max. */
  nextDelayMs(): number {
    const { minDelaySeconds: min, maxDelaySeconds: max } = this.#o;
    return Math.round((min + (this.#o.random ?? Math.random)() * (max - min)) * 1000);
  }

  /** Polls now and then keeps polling until {@link stop}. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#cycle = this.pollOnce().then((outcome) => {
        this.#schedule(outcome.longPoll && outcome.kind !== "failed" ? 0 : this.nextDelayMs());
      });
    }, delayMs);
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#inflight?.abort();
    await this.#cycle;
  }

  /** One request: download, and activate when the server has something new. Never throws. */
  async pollOnce(): Promise<PollOutcome> {
    const { activator } = this.#o;
    const tracker = activator.tracker;
    const wait = this.#o.longPollingTimeoutSeconds;
    const headers: Record<string, string> = { prefer: "modes=snapshot" };
    if (wait !== undefined) headers.prefer = `modes=snapshot, wait=${wait}`;
    if (activator.etag) headers["if-none-match"] = activator.etag;
    const fail = (code: string, message: string): PollOutcome => {
      tracker.failed({ code, message });
      return { kind: "failed", code, message, longPoll: false };
    };
    try {
      if (this.#o.bearerToken)
        headers.authorization = `${this.#o.bearerScheme ?? "Bearer"} ${this.#o.bearerToken()}`;
    } catch (e) {
      return fail("credentials_unavailable", `bundle service credentials: ${errorMessage(e)}`);
    }
    tracker.request();
    const ac = new AbortController();
    this.#inflight = ac;
    const timeoutMs = wait !== undefined ? (wait + 10) * 1000 : (this.#o.requestTimeoutMs ?? 30_000);
    const timer = setTimeout(() => ac.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      const res = await request(this.#o.url, {
        method: "GET",
        headers,
        signal: ac.signal,
        ...(this.#o.dispatcher ? { dispatcher: this.#o.dispatcher } : {}),
      });
      const type = String(res.headers["content-type"] ?? "");
      const longPoll = wait !== undefined && type.startsWith(LONG_POLL_CONTENT_TYPE);
      if (res.statusCode === 304) {
        await res.body.dump();
        tracker.response(304);
        return { kind: "not_modified", longPoll };
      }
      if (res.statusCode !== 200) {
        await res.body.dump();
        return fail("download_failed", `bundle service answered HTTP ${res.statusCode} for ${this.#o.url}`);
      }
      const limit = this.#o.maxBytes ?? 32 * 1024 * 1024;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > limit) {
          ac.abort();
          return fail("compressed_too_large", `bundle download exceeds ${limit} bytes; refused`);
        }
        chunks.push(chunk as Buffer);
      }
      tracker.response(200, { size });
      const etag = res.headers.etag;
      try {
        const r = await activator.activate(Buffer.concat(chunks), {
          kind: "http",
          ...(typeof etag === "string" ? { etag } : {}),
        });
        return { kind: "activated", revision: r.revision, longPoll };
      } catch (e) {
        // The activator already recorded the precise reason in the status.
        return { kind: "failed", code: "activation_failed", message: errorMessage(e), longPoll };
      }
    } catch (e) {
      if (!this.#running && ac.signal.aborted)
        return { kind: "failed", code: "stopped", message: "stopped", longPoll: false };
      return fail("download_failed", `bundle download from ${this.#o.url} failed: ${errorMessage(e)}`);
    } finally {
      clearTimeout(timer);
      this.#inflight = undefined;
    }
  }
}
