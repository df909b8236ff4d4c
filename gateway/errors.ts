/**
 * The one error module. Local errors carry stable string codes (`GW_ERR_*`) that callers and
 * tests match on; errors that cross the MCP wire are mapped to JSON-RPC codes by the transports.
 */

export type ErrorCode =
  | "GW_ERR_CONFIG"
  | "GW_ERR_USAGE"
  | "GW_ERR_CONTRACT"
  | "GW_ERR_POLICY"
  | "GW_ERR_BUNDLE"
  | "GW_ERR_NATIVE"
  | "GW_ERR_UPSTREAM"
  | "GW_ERR_UPSTREAM_UNAVAILABLE"
  | "GW_ERR_TIMEOUT"
  | "GW_ERR_NOT_FOUND"
  | "GW_ERR_PATH_ESCAPE"
  | "GW_ERR_LIMIT"
  | "GW_ERR_AUDIT"
  | "GW_ERR_AUTH"
  | "GW_ERR_STORE_UNAVAILABLE"
  | "GW_ERR_MODEL_REQUEST"
  | "GW_ERR_MODEL_UNSUPPORTED"
  | "GW_ERR_MODEL_PROVIDER"
  | "GW_ERR_INTERNAL";

/** Base class of every error Portcullis raises on purpose. */
export class PortcullisError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PortcullisError";
    this.code = code;
    this.details = options?.details;
  }
}

/** A configuration file failed to load or validate; the message names file, path and expectation. */
export class ConfigError extends PortcullisError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("GW_ERR_CONFIG", message, details ? { details } : undefined);
    this.name = "ConfigError";
  }
}

/** The command line was used wrongly. */
export class UsageError extends PortcullisError {
  constructor(message: string) {
    super("GW_ERR_USAGE", message);
    this.name = "UsageError";
  }
}

export function isPortcullisError(e: unknown): e is PortcullisError {
  return e instanceof PortcullisError;
}

/** Best-effort message of anything thrown (opa-wasm throws strings and plain objects). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === "string") return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
