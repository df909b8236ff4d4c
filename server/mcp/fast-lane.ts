/**
 * The fast lane: a node request listener in front of hono's that serves plain 2025-era tool calls
 * on `POST /mcp` without hono, the adapter's Request and Response objects or a web stream. It
 * decides on the raw headers alone whether it may take a request — a live session of the caller,
 * JSON content, an Accept naming JSON and SSE, a declared length within the bound, Host and Origin
 * allowed, and authentication that needs no await (loopback trust or an API key, with the outer
 * layer's scope rule) — and hands everything else to hono untouched. A request it took has its
 * body read from the socket and goes through the same pieces as the POST route (`McpPostLane`):
 * a plain call's reply is written with one `writeHead` + `end`; any other message (or a refusal)
 * is served by the route's own logic, and its Web `Response` — SSE streams included — is written
 * by @hono/node-server's own listener, so those bytes are exactly hono's.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { Principal } from "../../gateway/pipeline/context.js";
import type { McpPostLane } from "./http.js";
import { type HeaderReader, isJsonAndSse, isJsonContentType, rawHeaderReader } from "./http-headers.js";
import { isAllowedHost, isAllowedOrigin } from "./limits.js";

type NodeListener = (incoming: IncomingMessage, outgoing: ServerResponse) => unknown;

export interface FastLaneOptions {
  lane: McpPostLane;
  /** hono's listener: every request the lane does not take reaches it untouched. */
  fallback: NodeListener;
  /**
   * The outer authentication layer's synchronous verdict (`ProtectedResource.admitNow`): null when
   * it is off, undefined when only it can answer. Absent: there is no outer layer.
   */
  admit?: (header: HeaderReader, peer: string | undefined) => Principal | null | undefined;
  /** The host a request without a Host header is given (as `serve`'s `hostname`). */
  hostname?: string;
}

export interface FastLane {
  listener: (incoming: IncomingMessage, outgoing: ServerResponse) => void;
  /** Requests whose body the lane read itself (observability and tests). */
  readonly taken: number;
  /** Of those, plain calls answered with their JSON body by the lane's own write. */
  readonly plain: number;
}

const noop = () => {};

/** hono's default error handler, for a failure in the route's logic served from the lane. */
function internalError(e: unknown): Response {
  console.error(e);
  return new Response("Internal Server Error", {
    status: 500,
    headers: { "content-type": "text/plain; charset=UTF-8" },
  });
}

/**
 * The request's headers for the lane. node has built its header object before the listener runs;
 * when no name repeats, its values are the raw ones, as `Headers.get` reads them, so it is read
 * directly. With a repeat node keeps the first of some names and joins others: the raw list then.
 */
function laneHeaders(incoming: IncomingMessage): HeaderReader {
  const raw = incoming.rawHeaders;
  const byName = incoming.headers;
  let names = 0;
  for (const name in byName) {
    if (typeof byName[name] !== "string") return rawHeaderReader(raw);
    names++;
  }
  if (names * 2 !== raw.length) return rawHeaderReader(raw);
  return (name) => (byName[name] as string | undefined) ?? null;
}

/** `/mcp`, a query allowed (hono routes both alike); anything else is hono's. */
function isMcpPath(url: string | undefined): boolean {
  return url === "/mcp" || url?.startsWith("/mcp?") === true;
}

const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/** A Host the adapter builds a URL from without refusing the request (its own rule, copied). */
function isWellFormedHost(host: string): boolean {
  if (PLAIN_HOST.test(host)) return true;
  try {
    const name = new URL(`http://${host}/mcp`).hostname;
    return (
      name.length === host.length ||
      name === (host.includes(":") ? host.replace(/:\d+$/, "") : host).toLowerCase()
    );
  } catch {
    return false;
  }
}

/** Writes a plain call's reply with the headers hono's JSON reply has; none: 202 without body. */
function writeReply(outgoing: ServerResponse, message: JSONRPCMessage | undefined, sessionId: string): void {
  if (!message) {
    outgoing.writeHead(202);
    outgoing.end();
    return;
  }
  const text = JSON.stringify(message);
  outgoing.writeHead(200, {
    "content-type": "application/json",
    "mcp-session-id": sessionId,
    "content-length": Buffer.byteLength(text),
  });
  outgoing.end(text);
}

export function createFastLane(o: FastLaneOptions): FastLane {
  const { lane } = o;
  const { limits } = lane;
  let taken = 0;
  let plain = 0;

  // The Response of the route's logic for a request the lane took, keyed by its IncomingMessage.
  const pending = new WeakMap<object, (req: Request) => Response | Promise<Response>>();
  const writer = getRequestListener(
    async (req, env) => {
      const respond = pending.get(env.incoming);
      pending.delete(env.incoming);
      if (!respond) return internalError(new Error("fast lane: no response pending for this request"));
      try {
        return await respond(req);
      } catch (e) {
        return internalError(e);
      }
    },
    o.hostname === undefined ? {} : { hostname: o.hostname },
  );

  /** The request's headers and principal when the lane may take it; undefined: hono serves it. */
  const admit = (incoming: IncomingMessage): [HeaderReader, Principal, number] | undefined => {
    if (incoming.method !== "POST" || !isMcpPath(incoming.url)) return undefined;
    const header = laneHeaders(incoming);
    const length = header("content-length");
    if (length === null || !/^\d+$/.test(length) || Number(length) > limits.maxBodyBytes) return undefined;
    if (header("transfer-encoding") !== null) return undefined;
    if (!isJsonContentType(header("content-type")) || !isJsonAndSse(header("accept"))) return undefined;
    const host = header("host");
    if (host === null || !isWellFormedHost(host) || !isAllowedHost(host, limits.allowedHosts))
      return undefined;
    if (!isAllowedOrigin(header("origin") ?? undefined, limits.allowedOrigins)) return undefined;
    const peer = incoming.socket.remoteAddress;
    const outer = o.admit ? o.admit(header, peer) : null;
    if (outer === undefined) return undefined;
    const principal = outer ?? lane.principal(header, peer);
    if (principal === undefined) return undefined;
    const session = header("mcp-session-id");
    if (session === null || !lane.hasSession(session, principal)) return undefined;
    return [header, principal, Number(length)];
  };

  const serveBody = (
    incoming: IncomingMessage,
    outgoing: ServerResponse,
    header: HeaderReader,
    principal: Principal,
    text: string,
  ) => {
    let respond: (req: Request) => Response | Promise<Response>;
    try {
      const body = lane.parse(text);
      const refusal = body instanceof Response ? body : undefined;
      if (
        !refusal &&
        lane.answerPlain(header, principal, body, (message, sessionId) =>
          writeReply(outgoing, message, sessionId),
        )
      ) {
        plain++;
        return;
      }
      respond = (req) => refusal ?? lane.dispatch(req, header, principal, body);
    } catch (e) {
      // What hono's route would have answered for a failure there.
      respond = () => internalError(e);
    }
    pending.set(incoming, respond);
    void writer(incoming, outgoing);
  };

  const listener = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const admitted = admit(incoming);
    if (!admitted) {
      void o.fallback(incoming, outgoing);
      return;
    }
    taken++;
    const [header, principal, declared] = admitted;
    const chunks: Buffer[] = [];
    let received = 0;
    const complete = () => {
      let text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
      // As every `text()` (hono's path) does: a leading UTF-8 byte order mark is dropped.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      serveBody(incoming, outgoing, header, principal, text);
    };
    // A client gone mid-body has nothing to be answered (hono's path cannot reach it either).
    incoming.on("error", noop);
    // The parser holds the body to its declared length, so that many bytes complete it, with no
    // wait for 'end'. A body that came with the headers is buffered by the time the parser's
    // callback has returned: it is taken in one read, without a turn through the stream's events.
    queueMicrotask(() => {
      if (incoming.readableLength === declared) {
        if (declared > 0) chunks.push(incoming.read() as Buffer);
        incoming.resume();
        complete();
        return;
      }
      incoming.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        // Not from inside the parser's callback: once it has returned.
        if (received === declared) queueMicrotask(complete);
      });
    });
  };

  return {
    listener,
    get taken() {
      return taken;
    },
    get plain() {
      return plain;
    },
  };
}
