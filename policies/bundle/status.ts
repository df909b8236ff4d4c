/**
 * What a gateway reports about its policy bundle: OPA's bundle status fields (`active_revision`,
 * `last_request`, `last_successful_request`, `last_successful_download`,
 * `last_successful_activation`, `code`, `message`, `errors`) kept per bundle name, plus counters
 * for activations and failures rendered in the Prometheus text format. Timestamps are RFC 3339
 * strings from one injectable clock; an error stays visible until the next successful activation.
 */

export interface BundleError {
  /** Precise reason, e.g. `hash_mismatch`, `path_traversal`, `unsigned`, `download_failed`. */
  code: string;
  message: string;
}

export interface BundleStatus {
  name: string;
  active_revision?: string;
  /** Where the active bundle came from: `file`, `http`, `push`, `persisted`. */
  active_source?: string;
  policy_hash?: string;
  last_request?: string;
  last_successful_request?: string;
  last_successful_download?: string;
  last_successful_activation?: string;
  http_code?: number;
  size?: number;
  type?: "snapshot";
  /** `bundle_error` while the last attempt failed (OPA's code), absent when healthy. */
  code?: string;
  message?: string;
  errors?: BundleError[];
}

export interface BundleMetrics {
  activations: number;
  failures: Map<string, number>;
  lastActivationMs?: number;
}

export type Clock = () => Date;

export class BundleStatusTracker {
  readonly #status: BundleStatus;
  readonly #metrics: BundleMetrics = { activations: 0, failures: new Map() };
  readonly #clock: Clock;
  readonly #listeners = new Set<(status: BundleStatus) => void>();

  constructor(name: string, clock: Clock = () => new Date()) {
    this.#status = { name, type: "snapshot" };
    this.#clock = clock;
  }

  /** Called after every activation or failure (status uploads hook in here). */
  onChange(listener: (status: BundleStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) l(this.snapshot());
  }

  #now(): string {
    return this.#clock().toISOString();
  }

  /** A download attempt is about to start. */
  request(): void {
    this.#status.last_request = this.#now();
  }

  /** The server answered (200 or 304): the request itself succeeded. */
  response(httpCode: number, downloaded?: { size: number }): void {
    const now = this.#now();
    this.#status.http_code = httpCode;
    this.#status.last_successful_request = now;
    if (downloaded) {
      this.#status.last_successful_download = now;
      this.#status.size = downloaded.size;
    }
  }

  activated(revision: string, policyHash: string, source: string, durationMs: number): void {
    this.#status.active_revision = revision;
    this.#status.policy_hash = policyHash;
    this.#status.active_source = source;
    this.#status.last_successful_activation = this.#now();
    delete this.#status.code;
    delete this.#status.message;
    delete this.#status.errors;
    this.#metrics.activations++;
    this.#metrics.lastActivationMs = durationMs;
    this.#changed();
  }

  failed(error: BundleError): void {
    this.#status.code = "bundle_error";
    this.#status.message = error.message;
    this.#status.errors = [error];
    this.#metrics.failures.set(error.code, (this.#metrics.failures.get(error.code) ?? 0) + 1);
    this.#changed();
  }

  /** A copy, safe to serialise and hand out. */
  snapshot(): BundleStatus {
    return structuredClone(this.#status);
  }

  /** Prometheus text exposition of the activation counters. */
  metricsText(): string {
    const name = JSON.stringify(this.#status.name);
    const lines = [
      "# HELP portcullis_bundle_activations_total Bundles verified, loaded and swapped in.",
      "# TYPE portcullis_bundle_activations_total counter",
      `portcullis_bundle_activations_total{bundle=${name}} ${this.#metrics.activations}`,
      "# HELP portcullis_bundle_failures_total Bundles refused or failed downloads, by reason.",
      "# TYPE portcullis_bundle_failures_total counter",
    ];
    for (const [reason, n] of [...this.#metrics.failures].sort()) {
      lines.push(`portcullis_bundle_failures_total{bundle=${name},reason=${JSON.stringify(reason)}} ${n}`);
    }
    if (this.#metrics.lastActivationMs !== undefined) {
      lines.push(
        "# HELP portcullis_bundle_last_activation_seconds Duration of the last successful activation.",
        "# TYPE portcullis_bundle_last_activation_seconds gauge",
        `portcullis_bundle_last_activation_seconds{bundle=${name}} ${(this.#metrics.lastActivationMs / 1000).toFixed(6)}`,
      );
    }
    return `${lines.join("\n")}\n`;
  }
}
