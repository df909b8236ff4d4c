/**
 * MCP over Streamable HTTP: `POST/GET/DELETE /mcp` as a hono sub-app. Every request passes the
 * same gate first — Host and Origin (DNS rebinding), API-key authentication, body size, JSON depth,
 * no batch arrays — and is then routed to its protocol era: 2026-07-28 requests (the
 * `MCP-Protocol-Version` header) go to the stateless handler when one is configured; everything
 * else is the 2025-11-25 era, served by session-bound SDK transports with SSE resumability.
 * Sessions are bound to the principal that created them and expire when idle.
 *
 * A 2025-era `tools/call` that cannot produce messages of its own — no progress token, and a
 * client that declared neither elicitation nor sampling — is answered with a plain JSON body
 * (the spec lets the server pick JSON or SSE when the client accepts both): one write instead of
 * an SSE stream. Anything else, and every call when `jsonResponses: false`, streams as before.
 *
 * The POST route is built from pieces (`McpPostLane`: authentication, parse, the plain-call reply,
 * dispatch) that `fast-lane.ts` also uses when `serve` answers plain calls without hono.
 */
import { randomUUID } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { type JSONRPCMessage, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { isLegacyRequest } from "@modelcontextprotocol/server";
import { Hono } from "hono";
import { isPortcullisError } from "../../gateway/errors.js";
import type { Credentials, Principal } from "../../gateway/pipeline/context.js";
import type { Pipeline } from "../../gateway/pipeline/pipeline.js";
import { MemoryEventStore } from "./event-store.js";
import {
  type HeaderReader,
  headerReader,
  isJsonAndSse,
  isJsonContentType,
  isLoopbackAddress,
  rpcError,
} from "./http-headers.js";
import { cancelledId, type LiveSession, routeReplies } from "./http-session.js";
import { isAllowedHost, isAllowedOrigin, jsonDepthExceeds, readRequestBody } from "./limits.js";
import { AfterReply, isPlainToolCall, type PlainToolCall } from "./plain-call.js";
import { createSession } from "./session.js";

export interface HttpLimits {
  maxBodyBytes: number;
  maxJsonDepth: number;
  allowedOrigins: string[];
  allowedHosts: string[];
}

/** A handler for 2026-era requests (stateless); receives the already parsed and checked body. */
export type ModernHandler = (req: Request, body: unknown, principal: Principal) => Promise<Response>;

export interface McpHttpOptions {
  pipeline: Pipeline;
  limits: HttpLimits;
  modern?: ModernHandler;
  /** Idle sessions are closed after this long. */
  sessionIdleMs?: number;
  /** Live 2025-era sessions at most; a further initialize gets 503. Default 10,000. */
  maxSessions?: number;
  /** Answer plain tool calls with a JSON body (see above). Default true. */
  jsonResponses?: boolean;
  /** The principal an outer authentication layer already established for this request, if any. */
  authenticated?: (req: Request) => Principal | undefined;
}

export const MODERN_VERSION = "2026-07-28";

/** The socket's remote address when served by node (absent for in-process `app.request`). */
function peerOf(env: Partial<HttpBindings> | undefined): string | undefined {
  return env?.incoming?.socket?.remoteAddress;
}

/**
 * The POST logic of `/mcp` in pieces, for the node fast lane (`fast-lane.ts`) that serves plain
 * calls without hono: the same checks, sessions and replies as the POST route, which is built
 * from the same pieces.
 */
export interface McpPostLane {
  readonly limits: HttpLimits;
  /** The MCP gate's own authentication (no outer layer): the principal; undefined when it refuses. */
  principal(header: HeaderReader, peer: string | undefined): Principal | undefined;
  /** Whether `id` names a live 2025-era session of this principal. */
  hasSession(id: string, principal: Principal): boolean;
  /** The JSON-RPC message of a body within the size bound, or its refusal (depth, JSON, batch). */
  parse(text: string): object | Response;
  /**
   * Answers the message as the POST route would when that answer is a plain call's JSON body:
   * true when it took the call (`done` gets the reply: a message, or none for a cancelled call),
   * false when nothing was done and `dispatch` serves the message.
   */
  answerPlain(header: HeaderReader, principal: Principal, body: object, done: PlainDone): boolean;
  /** The POST route after the body is read and parsed: every era, session and stream. */
  dispatch(req: Request, header: HeaderReader, principal: Principal, body: object): Promise<Response>;
}

/** Receives a plain call's reply (undefined: the call was cancelled, answered 202 without body). */
export type PlainDone = (message: JSONRPCMessage | undefined, sessionId: string) => void;

export interface McpHttp {
  app: Hono<{ Bindings: Partial<HttpBindings> }>;
  lane: McpPostLane;
  sessions(): number;
  close(): Promise<void>;
}

export function createMcpHttp(opts: McpHttpOptions): McpHttp {
  const { pipeline, limits } = opts;
  const sessions = new Map<string, LiveSession>();
  const idleMs = opts.sessionIdleMs ?? 30 * 60_000;
  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const [id, s] of sessions)
        if (now - s.lastSeen > idleMs) {
          sessions.delete(id);
          void s.transport.close().catch(() => {});
        }
    },
    Math.min(idleMs, 60_000),
  );
  sweeper.unref();

  const app = new Hono<{ Bindings: Partial<HttpBindings> }>();

  /** The credentials a request presents; undefined for a malformed Authorization header. */
  const credentialsOf = (header: HeaderReader, peer: string | undefined): Credentials | undefined => {
    const auth = header("authorization");
    if (auth === null) return { kind: "http", loopbackPeer: isLoopbackAddress(peer) };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? { kind: "http", bearer: m[1]! } : undefined;
  };

  /** API-key authentication of the MCP gate itself; returns the principal or a refusal. */
  const authenticate = (header: HeaderReader, peer: string | undefined): Principal | Response => {
    const credentials = credentialsOf(header, peer);
    if (!credentials) return rpcError(401, -32001, "Unauthorized: expected 'Authorization: Bearer <key>'");
    try {
      return pipeline.authenticate(credentials);
    } catch (e) {
      if (isPortcullisError(e) && e.code === "GW_ERR_AUTH")
        return rpcError(401, -32001, `Unauthorized: ${e.message}`);
      throw e;
    }
  };

  /** Host/Origin and authentication; returns the principal or a refusal. */
  const gate = (req: Request, header: HeaderReader, peer: string | undefined): Principal | Response => {
    // node builds the URL from the Host header; in-process requests carry the host in the URL only.
    if (!isAllowedHost(header("host") ?? new URL(req.url).host, limits.allowedHosts))
      return rpcError(403, -32000, "Forbidden: Host not allowed");
    if (!isAllowedOrigin(header("origin") ?? undefined, limits.allowedOrigins))
      return rpcError(403, -32000, "Forbidden: Origin not allowed");
    return opts.authenticated?.(req) ?? authenticate(header, peer);
  };

  const authInfo = (p: Principal, token: string): AuthInfo => ({
    token,
    clientId: p.id,
    scopes: p.roles,
    extra: { principal: p },
  });

  /** The live session `id` of this principal (marked as seen), if any. */
  const liveSession = (id: string, principal: Principal): LiveSession | undefined => {
    const s = sessions.get(id);
    if (!s || s.principal !== principal.id) return undefined;
    s.lastSeen = Date.now();
    return s;
  };

  const sessionFor = (header: HeaderReader, principal: Principal): LiveSession | Response => {
    const id = header("mcp-session-id");
    if (!id) return rpcError(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    return liveSession(id, principal) ?? rpcError(404, -32001, "Session not found");
  };

  const parse = (text: string): object | Response => {
    if (jsonDepthExceeds(text, limits.maxJsonDepth))
      return rpcError(400, -32600, `Invalid Request: JSON nested deeper than ${limits.maxJsonDepth}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return rpcError(400, -32700, "Parse error: the body is not valid JSON");
    }
    if (Array.isArray(body)) return rpcError(400, -32600, "Invalid Request: batch arrays are not supported");
    if (typeof body !== "object" || body === null || (body as { jsonrpc?: unknown }).jsonrpc !== "2.0")
      return rpcError(400, -32600, "Invalid Request: expected a JSON-RPC 2.0 message");
    return body;
  };

  /** Whether the session answers `body` with a JSON body (its version header still to check). */
  const isJsonReplyCall = (s: LiveSession, header: HeaderReader, body: object): body is PlainToolCall =>
    opts.jsonResponses !== false &&
    isPlainToolCall(body, s.server.getClientCapabilities()) &&
    !s.replies.has(body.id) &&
    isJsonAndSse(header("accept")) &&
    isJsonContentType(header("content-type"));

  /** An `MCP-Protocol-Version` header naming a version this server does not speak. */
  const unsupportedVersion = (header: HeaderReader): string | undefined => {
    const version = header("mcp-protocol-version");
    return version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version) ? version : undefined;
  };

  const dispatch = async (req: Request, header: HeaderReader, principal: Principal, body: object) => {
    const token = header("authorization") ?? "";
    // The SDK handlers take the parsed body and never read the (already consumed) request body.
    const forward = req;

    // The v2 SDK's classifier decides the era: a `_meta` envelope claim or a modern version header.
    const sessionId = header("mcp-session-id");
    if (opts.modern && !sessionId && !(await isLegacyRequest(forward, body)))
      return opts.modern(forward, body, principal);

    if ((body as { method?: unknown }).method === "initialize" && !sessionId) {
      if (sessions.size >= (opts.maxSessions ?? 10_000))
        return rpcError(503, -32000, "Service Unavailable: too many open sessions");
      const transport: WebStandardStreamableHTTPServerTransport =
        new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          eventStore: new MemoryEventStore(),
          onsessioninitialized: (id) => {
            sessions.set(id, {
              transport,
              server,
              plain,
              principal: principal.id,
              lastSeen: Date.now(),
              replies,
            });
          },
          onsessionclosed: (id) => {
            sessions.delete(id);
          },
        });
      const session = randomUUID();
      const { server, plain } = createSession({
        pipeline,
        transport: "http",
        session,
        credentials: { kind: "http" },
      });
      const replies: LiveSession["replies"] = new Map();
      routeReplies(transport, replies);
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
        // Calls still waiting for a JSON reply get an error instead of hanging.
        for (const [id, reply] of replies)
          reply({ jsonrpc: "2.0", id, error: { code: -32000, message: "session closed" } });
        replies.clear();
      };
      await server.connect(transport);
      return transport.handleRequest(forward, { parsedBody: body, authInfo: authInfo(principal, token) });
    }
    const s = sessionFor(header, principal);
    if (s instanceof Response) return s;
    const cancelled = cancelledId(body);
    if (
      cancelled !== undefined &&
      s.plain.cancel(cancelled, (body as { params?: { reason?: unknown } }).params?.reason)
    )
      return new Response(null, { status: 202 });
    if (isJsonReplyCall(s, header, body)) {
      const version = unsupportedVersion(header);
      if (version !== undefined)
        return rpcError(400, -32000, `Bad Request: Unsupported protocol version: ${version}`);
      return jsonReply(s, body, principal, token);
    }
    return s.transport.handleRequest(forward, { parsedBody: body, authInfo: authInfo(principal, token) });
  };

  app.post("/", async (c) => {
    const req = c.req.raw;
    const header = headerReader(req, c.env);
    const principal = gate(req, header, peerOf(c.env));
    if (principal instanceof Response) return principal;
    const length = header("content-length");
    if (Number(length ?? "0") > limits.maxBodyBytes) return rpcError(413, -32600, "Request body too large");
    const text = await readRequestBody(req, limits.maxBodyBytes, length);
    if (text === undefined) return rpcError(413, -32600, "Request body too large");
    const body = parse(text);
    if (body instanceof Response) return body;
    return dispatch(req, header, principal, body);
  });

  app.get("/", async (c) => {
    const header = headerReader(c.req.raw, c.env);
    const principal = gate(c.req.raw, header, peerOf(c.env));
    if (principal instanceof Response) return principal;
    if (header("mcp-protocol-version") === MODERN_VERSION && !header("mcp-session-id"))
      return rpcError(405, -32000, "Method Not Allowed: the 2026-07-28 era has no GET stream");
    const s = sessionFor(header, principal);
    if (s instanceof Response) return s;
    return s.transport.handleRequest(c.req.raw, {
      authInfo: authInfo(principal, c.req.header("authorization") ?? ""),
    });
  });

  app.delete("/", async (c) => {
    const header = headerReader(c.req.raw, c.env);
    const principal = gate(c.req.raw, header, peerOf(c.env));
    if (principal instanceof Response) return principal;
    const s = sessionFor(header, principal);
    if (s instanceof Response) return s;
    const res = await s.transport.handleRequest(c.req.raw);
    const id = c.req.header("mcp-session-id");
    if (id) sessions.delete(id);
    return res;
  });

  /**
   * Runs a plain call through the session's fast path and hands its reply to `done`. The id stays
   * in `replies` while it runs so messages related to it go to the GET stream, and a closing
   * session answers it with an error; a cancelled call has no reply (answered 202 with no body).
   */
  const answer = (
    s: LiveSession,
    body: PlainToolCall,
    principal: Principal,
    token: string,
    done: PlainDone,
  ) => {
    const id = body.id;
    const sessionId = s.transport.sessionId ?? "";
    // Work nobody waits on (the call.completed event) runs once the reply was handed to `done`.
    const after = new AfterReply();
    s.replies.set(id, (message) => {
      done(message, sessionId);
      after.run();
    });
    const notify = (n: Parameters<Server["notification"]>[0]) => s.server.notification(n);
    void s.plain.answer(body, { principal, token, notify, afterReply: after.add }).then((reply) => {
      const pending = s.replies.get(id);
      if (!pending) return after.run();
      s.replies.delete(id);
      if (reply) pending(reply);
      else {
        done(undefined, sessionId);
        after.run();
      }
    });
  };

  /** A plain call's reply as one JSON body. */
  const jsonReply = (s: LiveSession, body: PlainToolCall, principal: Principal, token: string) =>
    new Promise<Response>((resolve) =>
      answer(s, body, principal, token, (message, sessionId) =>
        resolve(
          message
            ? new Response(JSON.stringify(message), {
                status: 200,
                headers: { "content-type": "application/json", "mcp-session-id": sessionId },
              })
            : new Response(null, { status: 202 }),
        ),
      ),
    );

  const lane: McpPostLane = {
    limits,
    principal(header, peer) {
      const credentials = credentialsOf(header, peer);
      if (!credentials) return undefined;
      try {
        return pipeline.authenticate(credentials);
      } catch {
        return undefined;
      }
    },
    hasSession: (id, principal) => sessions.get(id)?.principal === principal.id,
    parse,
    answerPlain(header, principal, body, done) {
      const id = header("mcp-session-id");
      const s = id ? liveSession(id, principal) : undefined;
      if (!s || !isJsonReplyCall(s, header, body) || unsupportedVersion(header) !== undefined) return false;
      answer(s, body, principal, header("authorization") ?? "", done);
      return true;
    },
    dispatch,
  };

  return {
    app,
    lane,
    sessions: () => sessions.size,
    async close() {
      clearInterval(sweeper);
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((s) => s.transport.close().catch(() => {})));
    },
  };
}
