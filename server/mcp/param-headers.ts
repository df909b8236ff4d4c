/**
 * SEP-2243 custom parameter headers (2026-07-28 over HTTP): a tool may mark string parameters
 * with `x-mcp-header: <Name>` in its input schema, and a client then mirrors each such argument
 * in an `Mcp-Param-<Name>` header so intermediaries can route on it. The server checks that the
 * header is present and equal to the body's value; `=?base64?…?=` values are decoded strictly
 * (alphabet and padding), anything else is literal. A mismatch is a HeaderMismatch error (-32020)
 * with HTTP 400. The gateway checks this itself because its upstreams may not be on HTTP.
 */

/** The JSON-RPC error code of a header that disagrees with the body. */
export const HEADER_MISMATCH = -32020;

/** The header value as the client meant it; undefined when its Base64 form is malformed. */
export function decodeParamHeader(raw: string): string | undefined {
  const m = /^=\?base64\?(.*)\?=$/.exec(raw);
  if (!m) return raw;
  const b64 = m[1]!;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
  return Buffer.from(b64, "base64").toString("utf8");
}

/**
 * Why the request's `Mcp-Param-*` headers disagree with its arguments for a tool with this input
 * schema, or undefined when they agree (or the tool mirrors nothing).
 */
export function paramHeaderMismatch(
  inputSchema: unknown,
  args: Record<string, unknown>,
  headers: Headers,
): string | undefined {
  const properties = (inputSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (!properties || typeof properties !== "object") return undefined;
  for (const [param, schema] of Object.entries(properties)) {
    const header = (schema as Record<string, unknown> | null)?.["x-mcp-header"];
    if (typeof header !== "string" || args[param] === undefined) continue;
    const raw = headers.get(`mcp-param-${header}`);
    if (raw === null) return `Mcp-Param-${header} is missing`;
    const value = decodeParamHeader(raw);
    if (value === undefined) return `Mcp-Param-${header} is not valid Base64`;
    if (value !== String(args[param])) return `Mcp-Param-${header} does not match the body's '${param}'`;
  }
  return undefined;
}
