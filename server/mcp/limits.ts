/**
 * Input bounds and DNS-rebinding defence for the HTTP transports: Host and Origin must name a
 * loopback address (or one the config allows), bodies are capped in bytes, and nesting depth is
 * measured on the raw text before parsing so a hostile document never reaches `JSON.parse`.
 */

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** The host part of a Host header value (`name[:port]`, `[v6][:port]`). */
function hostName(value: string): string {
  const v = value.trim().toLowerCase();
  if (v.startsWith("[")) {
    const end = v.indexOf("]");
    return end > 0 ? v.slice(0, end + 1) : v;
  }
  const colon = v.lastIndexOf(":");
  return colon >= 0 ? v.slice(0, colon) : v;
}

export function isAllowedHost(host: string | undefined, allowed: readonly string[]): boolean {
  if (host === undefined || host === "") return false;
  const name = hostName(host);
  return (
    LOOPBACK.has(name) ||
    allowed.some((a) => a.toLowerCase() === host.toLowerCase() || a.toLowerCase() === name)
  );
}

/** A missing Origin (non-browser client) is accepted; a present one must be loopback or allowed. */
export function isAllowedOrigin(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return (
      (url.protocol === "http:" || url.protocol === "https:") && LOOPBACK.has(url.hostname.toLowerCase())
    );
  } catch {
    return false;
  }
}

/** Whether JSON text nests objects/arrays deeper than `max` (strings are skipped correctly). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Reads a request's body up to `max` bytes; undefined when it is larger. A body with a declared
 * length within the bound is read in one piece (`text`, which the node adapter decodes straight
 * from the socket's bytes: no web stream, no ArrayBuffer copy); the HTTP parser holds the body to
 * its declared length, and the decoded text is measured again only when it could exceed `max`
 * (an in-process Request may declare any length). Like every `text()`, a leading UTF-8 BOM is
 * dropped. A body without a declared length (chunked) is streamed and counted as it arrives.
 */
export async function readRequestBody(
  req: Request,
  max: number,
  /** The Content-Length header when the caller already read it (else read from `req`). */
  declared: string | null = req.headers.get("content-length"),
): Promise<string | undefined> {
  if (declared === null || !/^\d+$/.test(declared)) return readBounded(req.body, max);
  if (Number(declared) > max) return undefined;
  const text = await req.text();
  // A UTF-16 unit is at most 3 UTF-8 bytes: only a text longer than max/3 needs counting.
  return text.length * 3 > max && Buffer.byteLength(text) > max ? undefined : text;
}

/** Reads a request body up to `max` bytes; undefined when it is larger. */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<string | undefined> {
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
