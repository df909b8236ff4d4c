/**
 * Structured errors of the HTTP gateway: every failure is an RFC 9457 `application/problem+json`
 * body with a stable `code` (the `GW_ERR_*` code of the error module, or one of the REST-only codes
 * below), the HTTP status, a one-line `title` and a `detail` for people. `problemOf` maps anything
 * thrown to one, so routes never leak stack traces or hand out a 500 for a caller's mistake.
 */
import { errorMessage, isPortcullisError } from "../../gateway/errors.js";

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  [extra: string]: unknown;
}

const STATUS: Record<string, number> = {
  GW_ERR_USAGE: 400,
  GW_ERR_CONTRACT: 400,
  GW_ERR_AUTH: 401,
  GW_ERR_FORBIDDEN: 403,
  GW_ERR_NOT_FOUND: 404,
  GW_ERR_CONFLICT: 409,
  GW_ERR_LIMIT: 429,
  GW_ERR_POLICY: 403,
  GW_ERR_UPSTREAM: 502,
  GW_ERR_UPSTREAM_UNAVAILABLE: 503,
  GW_ERR_TIMEOUT: 504,
  GW_ERR_AUDIT: 503,
  GW_ERR_STORE_UNAVAILABLE: 503,
  GW_ERR_PAYLOAD_TOO_LARGE: 413,
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  GW_ERR_BUNDLE: 422,
};

const TITLE: Record<number, string> = {
  400: "Bad request",
  401: "Unauthenticated",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable content",
  429: "Too many requests",
  500: "Internal error",
  502: "Upstream error",
  503: "Unavailable",
  504: "Timeout",
};

/** A problem document for a stable code. */
export function problem(code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  const status = STATUS[code] ?? 500;
  return {
    type: `urn:portcullis:error:${code}`,
    title: TITLE[status] ?? "Error",
    status,
    code,
    detail,
    ...extra,
  };
}

/** The problem document for anything a route caught. */
export function problemOf(e: unknown): Problem {
  if (e instanceof RestError) return problem(e.code, e.message);
  if (isPortcullisError(e)) return problem(e.code, e.message);
  return problem("GW_ERR_INTERNAL", `internal error: ${errorMessage(e).slice(0, 500)}`);
}

/** The HTTP response for a problem. */
export function problemResponse(p: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(p), {
    status: p.status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

/** An error with a REST-only stable code (403, 409, 413, 415). */
export class RestError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "RestError";
    this.code = code;
  }
}

/** Stable codes for the statuses of routes that answer `{error: {code, message}}` (policy admin). */
const CODE_OF_STATUS: Record<number, string> = {
  400: "GW_ERR_USAGE",
  401: "GW_ERR_AUTH",
  403: "GW_ERR_FORBIDDEN",
  404: "GW_ERR_NOT_FOUND",
  413: "GW_ERR_PAYLOAD_TOO_LARGE",
  415: "GW_ERR_UNSUPPORTED_MEDIA_TYPE",
  422: "GW_ERR_BUNDLE",
};

/**
 * Rewrites an error response of the form `{error: {code, message}, ...rest}` as a problem: the
 * stable code from the status, the original code as `reason`, the message as `detail`, and the
 * other members kept (the policy admin routes' bundle `status` becomes `bundle_status`, since
 * `status` is the problem's HTTP status). Anything else passes.
 */
export async function asProblem(res: Response): Promise<Response> {
  const type = res.headers.get("content-type") ?? "";
  if (res.status < 400 || !type.startsWith("application/json")) return res;
  let body: unknown;
  try {
    body = await res.clone().json();
  } catch {
    return res;
  }
  const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (!err || typeof err !== "object") return res;
  const { error: _error, status: bundleStatus, ...rest } = body as Record<string, unknown>;
  const code = CODE_OF_STATUS[res.status] ?? (res.status >= 500 ? "GW_ERR_INTERNAL" : "GW_ERR_USAGE");
  const p = problem(code, typeof err.message === "string" ? err.message : `request failed (${res.status})`, {
    ...(typeof err.code === "string" ? { reason: err.code } : {}),
    ...rest,
    ...(bundleStatus !== undefined ? { bundle_status: bundleStatus } : {}),
  });
  return problemResponse({ ...p, status: res.status });
}
