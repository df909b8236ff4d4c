/**
 * Errors of the model path, all `PortcullisError`s with stable codes. Three families: the
 * caller's request is malformed (`ModelRequestError`, 400), it asks for something the target wire
 * format cannot carry (`UnsupportedFeatureError`, 400, naming the feature — the gateway refuses
 * rather than silently dropping it), or the provider failed (`ProviderError`, with a `kind` the
 * router's retry and breaker logic reads, the upstream status and any `Retry-After`). Each turns
 * into the neutral `ModelErrorBody` that codecs render in the client's own format.
 */
import { PortcullisError } from "../../gateway/errors.js";
import type { ModelErrorBody } from "./types.js";

/** The caller's request body is malformed: a 400 in the caller's own format. */
export class ModelRequestError extends PortcullisError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("GW_ERR_MODEL_REQUEST", message, details ? { details } : undefined);
    this.name = "ModelRequestError";
  }
}

/** The request uses a feature the target wire format has no way to carry. */
export class UnsupportedFeatureError extends PortcullisError {
  readonly feature: string;

  /** `target` is the wire format that cannot carry it, or "any" when the gateway carries it nowhere. */
  constructor(feature: string, target: string, reason?: string) {
    super(
      "GW_ERR_MODEL_UNSUPPORTED",
      `${target === "any" ? `${feature} is not supported by the gateway` : `${feature} is not supported by ${target} targets`}${reason ? `: ${reason}` : ""}`,
      { details: { feature, target } },
    );
    this.name = "UnsupportedFeatureError";
    this.feature = feature;
  }
}

/** How a provider call failed; the router retries and trips breakers on these. */
export type ProviderErrorKind =
  | "connect_error"
  | "timeout"
  | "rate_limited"
  | "server_error"
  | "client_error"
  | "protocol_error"
  | "stream_cut";

/** A provider call failed. `retriable` says whether another attempt could succeed. */
export class ProviderError extends PortcullisError {
  readonly kind: ProviderErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly retriable: boolean;
  /** The provider's id (from its config), when known. */
  readonly provider: string | undefined;

  constructor(
    kind: ProviderErrorKind,
    message: string,
    options: {
      status?: number;
      retryAfterMs?: number;
      retriable?: boolean;
      provider?: string;
      cause?: unknown;
    } = {},
  ) {
    super("GW_ERR_MODEL_PROVIDER", message, {
      cause: options.cause,
      details: { kind, status: options.status, provider: options.provider },
    });
    this.name = "ProviderError";
    this.kind = kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.retriable = options.retriable ?? DEFAULT_RETRIABLE[kind];
    this.provider = options.provider;
  }
}

const DEFAULT_RETRIABLE: Record<ProviderErrorKind, boolean> = {
  connect_error: true,
  timeout: true,
  rate_limited: true,
  server_error: true,
  client_error: false,
  protocol_error: false,
  stream_cut: false,
};

/** The HTTP status a client sees for each provider failure (the gateway is the one answering). */
const PROVIDER_STATUS: Record<ProviderErrorKind, number> = {
  connect_error: 502,
  timeout: 504,
  rate_limited: 429,
  server_error: 502,
  client_error: 400,
  protocol_error: 502,
  stream_cut: 502,
};

/**
 * The neutral error body of anything thrown on the model path. Codes: `invalid_request`,
 * `unsupported_feature`, the provider error kinds, and `internal_error` for the rest (whose
 * message is not echoed, since it may carry internals).
 */
export function modelErrorBody(error: unknown): ModelErrorBody {
  if (error instanceof ModelRequestError) {
    return { code: "invalid_request", message: error.message, status: 400 };
  }
  if (error instanceof UnsupportedFeatureError) {
    return { code: "unsupported_feature", message: error.message, status: 400 };
  }
  if (error instanceof ProviderError) {
    // A provider's own 4xx keeps its status (e.g. 404 unknown model, 413 too large).
    const status =
      error.kind === "client_error" && error.status !== undefined && error.status >= 400 && error.status < 500
        ? error.status
        : PROVIDER_STATUS[error.kind];
    return { code: error.kind, message: error.message, status };
  }
  return { code: "internal_error", message: "internal error", status: 500 };
}
