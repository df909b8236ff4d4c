/**
 * One 2025-era MCP session in front of the pipeline: a low-level SDK `Server` whose handlers only
 * translate between MCP messages and pipeline calls. The same factory serves stdio and each
 * Streamable HTTP session. Requests an upstream sends back during a call (elicitation, sampling)
 * and its progress and log notifications are related to the client's request, so on HTTP they
 * travel on that request's SSE stream.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListRootsResultSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { errorMessage, isPortcullisError } from "../../gateway/errors.js";
import type { Credentials, Principal } from "../../gateway/pipeline/context.js";
import { PolicyDeniedError } from "../../gateway/pipeline/execute.js";
import type { CallRequest, Pipeline } from "../../gateway/pipeline/pipeline.js";
import type { AbortState, ClientChannel } from "../../gateway/registry/source.js";
import { paginate } from "./paginate.js";
import { PlainCalls } from "./plain-call.js";

export const SERVER_INFO = { name: "portcullis", version: "0.1.0" };

/** JSON-RPC error code of a prompt or resource the policy denied. */
export const POLICY_DENIED_CODE = -32003;

export interface SessionOptions {
  pipeline: Pipeline;
  transport: "stdio" | "http";
  /** Gateway session id (the HTTP session id, or one per stdio process). */
  session: string;
  /** stdio: fixed credentials; HTTP: the principal arrives with each request's authInfo. */
  credentials: Credentials;
  pageSize?: number;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Notifications of one request, sent in order and all before its result. */
interface Outbox {
  send(n: ServerNotification): void;
  /** The sends still on their way; undefined when nothing was sent. */
  drain(): Promise<void> | undefined;
}

function outbox(extra: Extra): Outbox {
  // No chain until something is sent: a call without notifications drains without a promise.
  let chain: Promise<void> | undefined;
  return {
    send(n) {
      chain = (chain ?? Promise.resolve()).then(() => extra.sendNotification(n)).catch(() => {});
    },
    drain: () => chain,
  };
}

/** Maps local errors to the wire: unknown names are InvalidParams, policy denials carry reasons. */
export function toMcpError(e: unknown): unknown {
  if (e instanceof McpError) return e;
  if (e instanceof PolicyDeniedError)
    return new McpError(POLICY_DENIED_CODE, e.message, {
      decision: e.decision.decision,
      reasons: e.decision.reasons,
    });
  if (isPortcullisError(e)) {
    if (e.code === "GW_ERR_NOT_FOUND") return new McpError(ErrorCode.InvalidParams, e.message, e.details);
    if (e.code === "GW_ERR_AUTH") return new McpError(ErrorCode.InvalidRequest, e.message);
    return new McpError(ErrorCode.InternalError, `${e.code}: ${e.message}`);
  }
  return new McpError(ErrorCode.InternalError, errorMessage(e));
}

/** A session: its SDK server, and the fast path for its plain tool calls (`plain-call.ts`). */
export interface McpSession {
  server: Server;
  plain: PlainCalls;
}

export function createSessionServer(opts: SessionOptions): Server {
  return createSession(opts).server;
}

export function createSession(opts: SessionOptions): McpSession {
  const { pipeline } = opts;
  const server = new Server(SERVER_INFO, {
    capabilities: {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      completions: {},
      logging: {},
    },
  });
  const pageSize = opts.pageSize ?? 500;
  const subscriptions = new Set<string>();

  const principalOf = (extra: Extra): Principal | undefined =>
    extra.authInfo?.extra?.principal as Principal | undefined;

  const listRequest = (extra: Extra) => {
    const principal = principalOf(extra);
    return {
      credentials: opts.credentials,
      transport: opts.transport,
      session: opts.session,
      ...(principal ? { principal } : {}),
    };
  };

  /** The level the client set with logging/setLevel, if any. */
  let logLevel: string | undefined;
  const channel = (extra: Extra, out: Outbox): ClientChannel => ({
    era: "2025-11-25",
    capabilities: server.getClientCapabilities() ?? {},
    elicit: (params, signal) =>
      server.request({ method: "elicitation/create", params }, ElicitResultSchema, {
        relatedRequestId: extra.requestId,
        ...(signal ? { signal } : {}),
      }),
    createMessage: (params, signal) =>
      server.request({ method: "sampling/createMessage", params }, CreateMessageResultSchema, {
        relatedRequestId: extra.requestId,
        ...(signal ? { signal } : {}),
      }),
    listRoots: (signal) =>
      server.request({ method: "roots/list" }, ListRootsResultSchema, {
        relatedRequestId: extra.requestId,
        ...(signal ? { signal } : {}),
      }),
    ...(logLevel ? { logLevel } : {}),
    notify: async (n) => out.send(n),
  });

  const callRequest = (
    name: string,
    args: Record<string, unknown> | undefined,
    meta: Record<string, unknown> | undefined,
    extra: Extra,
    out: Outbox,
  ): CallRequest => {
    const principal = principalOf(extra);
    // A plain call's extra carries its abort state: the pipeline takes that instead of a signal.
    const abort = (extra as { abort?: AbortState }).abort;
    const afterReply = (extra as { afterReply?: CallRequest["afterReply"] }).afterReply;
    // Built by assignment (no spread of optional parts): this runs once per tool call.
    const req: CallRequest = {
      name,
      arguments: args ?? {},
      credentials: opts.credentials,
      transport: opts.transport,
      session: opts.session,
      client: channel(extra, out),
    };
    if (abort) req.abort = abort;
    else req.signal = extra.signal;
    if (principal) req.principal = principal;
    if (afterReply) req.afterReply = afterReply;
    if (meta) {
      const { progressToken, ...rest } = meta;
      if (Object.keys(rest).length) req.meta = rest;
      if (progressToken !== undefined)
        req.onProgress = (p) =>
          out.send({
            method: "notifications/progress",
            params: { progressToken: progressToken as string | number, ...p },
          });
    }
    return req;
  };

  const guarded =
    <R, A extends unknown[]>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        return await fn(...a);
      } catch (e) {
        throw toMcpError(e);
      }
    };

  server.setRequestHandler(
    ListToolsRequestSchema,
    guarded(async (req, extra) => {
      const { items, nextCursor } = paginate(
        await pipeline.listTools(listRequest(extra)),
        req.params?.cursor,
        pageSize,
      );
      return { tools: items, ...(nextCursor ? { nextCursor } : {}) };
    }),
  );

  const callTool = async (req: CallToolRequest, extra: Extra): Promise<CallToolResult> => {
    try {
      const out = outbox(extra);
      const { result } = await pipeline.callTool(
        callRequest(req.params.name, req.params.arguments, req.params._meta, extra, out),
      );
      const draining = out.drain();
      if (draining) await draining;
      if (!result) throw new McpError(ErrorCode.InternalError, "the call produced no result");
      return result;
    } catch (e) {
      if (isPortcullisError(e) && e.code !== "GW_ERR_NOT_FOUND" && e.code !== "GW_ERR_AUTH")
        return { content: [{ type: "text", text: `${e.code}: ${e.message}` }], isError: true };
      throw toMcpError(e);
    }
  };
  server.setRequestHandler(CallToolRequestSchema, callTool);

  server.setRequestHandler(
    ListPromptsRequestSchema,
    guarded(async (req, extra) => {
      const { items, nextCursor } = paginate(
        await pipeline.listPrompts(listRequest(extra)),
        req.params?.cursor,
        pageSize,
      );
      return { prompts: items, ...(nextCursor ? { nextCursor } : {}) };
    }),
  );

  server.setRequestHandler(
    GetPromptRequestSchema,
    guarded(async (req, extra) => {
      const out = outbox(extra);
      const { result } = await pipeline.getPrompt(
        callRequest(req.params.name, req.params.arguments, req.params._meta, extra, out),
      );
      await out.drain();
      if (!result) throw new McpError(ErrorCode.InternalError, "the prompt produced no result");
      return result;
    }),
  );

  server.setRequestHandler(
    ListResourcesRequestSchema,
    guarded(async (req, extra) => {
      const { items, nextCursor } = paginate(
        await pipeline.listResources(listRequest(extra)),
        req.params?.cursor,
        pageSize,
      );
      return { resources: items, ...(nextCursor ? { nextCursor } : {}) };
    }),
  );

  server.setRequestHandler(
    ListResourceTemplatesRequestSchema,
    guarded(async (req, extra) => {
      const { items, nextCursor } = paginate(
        await pipeline.listResourceTemplates(listRequest(extra)),
        req.params?.cursor,
        pageSize,
      );
      return { resourceTemplates: items, ...(nextCursor ? { nextCursor } : {}) };
    }),
  );

  server.setRequestHandler(
    ReadResourceRequestSchema,
    guarded(async (req, extra) => {
      const out = outbox(extra);
      const { result } = await pipeline.readResource(
        callRequest(req.params.uri, {}, req.params._meta, extra, out),
      );
      await out.drain();
      if (!result) throw new McpError(ErrorCode.InternalError, "the read produced no result");
      return result;
    }),
  );

  server.setRequestHandler(
    SubscribeRequestSchema,
    guarded(async (req) => {
      const { source } = await pipeline.registry.resolveResource(req.params.uri);
      await source.subscribe?.(req.params.uri);
      subscriptions.add(req.params.uri);
      return {};
    }),
  );

  server.setRequestHandler(
    UnsubscribeRequestSchema,
    guarded(async (req) => {
      subscriptions.delete(req.params.uri);
      return {};
    }),
  );

  server.setRequestHandler(
    CompleteRequestSchema,
    guarded(async (req, extra) => pipeline.complete(req.params, extra.signal)),
  );

  // The level goes to 2025 upstreams now (their level is shared by every session) and with each
  // request to 2026 upstreams (per call, in the request's _meta).
  server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    logLevel = req.params.level;
    await Promise.all(
      pipeline.registry.sources.map((s) => s.setLogLevel?.(req.params.level).catch(() => {})),
    );
    return {};
  });

  const offList = pipeline.registry.onListChanged((kind) => {
    const send =
      kind === "tools"
        ? server.sendToolListChanged()
        : kind === "prompts"
          ? server.sendPromptListChanged()
          : server.sendResourceListChanged();
    void send.catch(() => {});
  });
  const offUpdated = pipeline.registry.onResourceUpdated((uri) => {
    if (subscriptions.has(uri)) void server.sendResourceUpdated({ uri }).catch(() => {});
  });
  const previous = server.onclose;
  server.onclose = () => {
    offList();
    offUpdated();
    plain.cancelAll(new McpError(ErrorCode.ConnectionClosed, "Connection closed"));
    previous?.();
  };
  const plain = new PlainCalls(callTool);
  return { server, plain };
}
