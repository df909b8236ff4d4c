/**
 * A 2025-era session of the HTTP endpoint as `http.ts` keeps it: the SDK transport and server, the
 * session's plain-call fast path, and the requests answered with a JSON body, whose replies
 * `routeReplies` takes off the transport's outgoing messages.
 */
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { PlainCalls } from "./plain-call.js";

export type RequestId = string | number;

export interface LiveSession {
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  /** The session's fast path for plain tool calls. */
  plain: PlainCalls;
  principal: string;
  lastSeen: number;
  /** Requests being answered with a JSON body: their reply is handed here instead of a stream. */
  replies: Map<RequestId, (message: JSONRPCMessage) => void>;
}

/**
 * Routes the session's outgoing messages: the reply to a request answered as JSON resolves that
 * request's HTTP response; a message related to it (an upstream's log, say) has no stream of its
 * own and goes to the standalone GET stream; everything else takes the SDK's path unchanged.
 */
export function routeReplies(transport: Transport, replies: LiveSession["replies"]): void {
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage, options?: TransportSendOptions) => {
    if (("result" in message || "error" in message) && message.id !== undefined) {
      const reply = replies.get(message.id);
      if (reply) {
        replies.delete(message.id);
        reply(message);
        return Promise.resolve();
      }
    }
    const related = options?.relatedRequestId;
    if (related !== undefined && replies.has(related)) {
      const { relatedRequestId: _related, ...rest } = options!;
      return send(message, rest);
    }
    return send(message, options);
  };
}

/** The request id a `notifications/cancelled` names, if the body is one. */
export function cancelledId(body: unknown): RequestId | undefined {
  const m = body as { method?: unknown; params?: { requestId?: unknown } };
  if (m.method !== "notifications/cancelled") return undefined;
  const id = m.params?.requestId;
  return typeof id === "string" || typeof id === "number" ? id : undefined;
}
