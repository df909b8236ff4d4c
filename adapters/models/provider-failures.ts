/**
 * How a provider call failed, as a `ProviderError` the router reads: HTTP statuses (429 with
 * `Retry-After`, 5xx, 408, other 4xx, with the provider's own message kept), transport errors
 * (refused or reset connections, undici timeouts, a body cut mid-way) and error events that
 * arrive before the first token.
 */
import { providerErrorMessage } from "./codecs/shared.js";
import { ProviderError, type ProviderErrorKind } from "./errors.js";
import type { Call } from "./http-call.js";
import type { ChatStreamEvent } from "./types.js";

/** `Retry-After` (delta-seconds or an HTTP-date) in milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const IN_STREAM_KINDS = new Set<ProviderErrorKind>([
  "rate_limited",
  "client_error",
  "stream_cut",
  "protocol_error",
]);

/** An error event that came before the first token: it rejects the stream instead. */
export function inStreamFailure(
  event: Extract<ChatStreamEvent, { type: "error" }>,
  provider: string,
): ProviderError {
  const code = event.error.code as ProviderErrorKind;
  const kind: ProviderErrorKind = IN_STREAM_KINDS.has(code) ? code : "server_error";
  return new ProviderError(kind, `${provider}: ${event.error.message}`, {
    provider,
    retriable: kind === "server_error" || kind === "rate_limited" || kind === "stream_cut",
  });
}

/** The provider's own message in an error body (JSON in either vendor's shape, or plain text). */
export function errorText(text: string): string | undefined {
  try {
    return providerErrorMessage(JSON.parse(text));
  } catch {
    return text.trim().slice(0, 500) || undefined;
  }
}

export function statusError(
  status: number,
  text: string,
  retryAfter: string | undefined,
  provider: string,
): ProviderError {
  const message = errorText(text);
  const full = `${provider}: HTTP ${status}${message ? `: ${message}` : ""}`;
  const retryAfterMs = parseRetryAfter(retryAfter);
  const extra = { status, provider, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  if (status === 429) return new ProviderError("rate_limited", full, extra);
  if (status >= 500) return new ProviderError("server_error", full, extra);
  if (status === 408) return new ProviderError("timeout", full, extra);
  return new ProviderError("client_error", full, extra);
}

const CONNECT_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** A thrown transport error → `ProviderError` (or the client's own abort reason, rethrown). */
export function transportError(e: unknown, call: Call, provider: string, afterFirstToken: boolean): unknown {
  if (call.cause !== undefined) return call.cause;
  if (e instanceof ProviderError) return e;
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return new ProviderError("timeout", `${provider}: ${message}`, { provider, cause: e });
  }
  if (typeof code === "string" && CONNECT_CODES.has(code) && !afterFirstToken) {
    return new ProviderError("connect_error", `${provider}: ${message}`, { provider, cause: e });
  }
  return new ProviderError("stream_cut", `${provider}: the connection broke: ${message}`, {
    provider,
    cause: e,
    retriable: !afterFirstToken,
  });
}
