/**
 * Request-header reading and the small checks of `/mcp` shared by the hono routes (`http.ts`) and
 * the node fast lane in front of them (`fast-lane.ts`): one header reader over node's raw header
 * list, so both see exactly the same values, and the JSON-RPC error response outside a session.
 */
import type { HttpBindings } from "@hono/node-server";

/** A request header by name, as `Headers.get` returns it (repeats joined with ", "), or null. */
export type HeaderReader = (name: string) => string | null;

/**
 * The headers of node's raw list (`IncomingMessage.rawHeaders`), read into a small map on first
 * use: a validated `Headers` object per request costs ~4 µs, which the fast paths never need.
 */
export function rawHeaderReader(raw: readonly string[]): HeaderReader {
  let byName: Map<string, string> | undefined;
  return (name) => {
    if (!byName) {
      byName = new Map();
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const key = raw[i]!.toLowerCase();
        const seen = byName.get(key);
        byName.set(key, seen === undefined ? raw[i + 1]! : `${seen}, ${raw[i + 1]!}`);
      }
    }
    return byName.get(name) ?? null;
  };
}

/** The request's headers: node's raw list when served by node, else (in-process) its `Headers`. */
export function headerReader(req: Request, env: Partial<HttpBindings> | undefined): HeaderReader {
  const raw = env?.incoming?.rawHeaders;
  return raw ? rawHeaderReader(raw) : (name) => req.headers.get(name);
}

export function isLoopbackAddress(a: string | undefined): boolean {
  return a === "127.0.0.1" || a === "::1" || a === "::ffff:127.0.0.1";
}

/** An Accept header naming both JSON and SSE (what the SDK transport requires of a POST). */
export function isJsonAndSse(accept: string | null): boolean {
  const value = accept ?? "";
  return value.includes("application/json") && value.includes("text/event-stream");
}

/** `application/json`, parameters allowed (what the SDK transport accepts). */
export function isJsonContentType(value: string | null): boolean {
  if (value === "application/json") return true;
  return value?.split(";")[0]?.trim().toLowerCase() === "application/json";
}

/** A JSON-RPC error response outside any session. */
export function rpcError(status: number, code: number, message: string, id: unknown = null): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id }), {
    status,
    headers: { "content-type": "application/json" },
  });
}
