/**
 * The 2026-07-28 era over HTTP: stateless requests carrying version, capabilities and client info in
 * `_meta`, served by the v2 SDK's per-request handler (`server/discover`, header checks, result
 * types) with a fresh low-level server per request whose handlers call the same pipeline as the
 * 2025 era. ask_user becomes an input-required result: the approval form travels as an embedded
 * elicitation and the pending approval id as `requestState`, HMAC-protected with a per-process key;
 * the client's retry carries the answer, which is recorded before the call runs the pipeline again.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import {
  CLIENT_CAPABILITIES_META_KEY,
  createMcpHandler,
  inputRequired,
  inputResponse,
  type McpHttpHandler,
  ProtocolError,
  Server,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { errorMessage, isPortcullisError } from "../../gateway/errors.js";
import { isApproval } from "../../gateway/pipeline/ask-user.js";
import type { Principal } from "../../gateway/pipeline/context.js";
import { PolicyDeniedError } from "../../gateway/pipeline/execute.js";
import type { CallRequest, Pipeline } from "../../gateway/pipeline/pipeline.js";
import type { ClientChannel } from "../../gateway/registry/source.js";
import type { ModernHandler } from "./http.js";
import { CallMailbox, ParkedCalls } from "./parked.js";
import { POLICY_DENIED_CODE, SERVER_INFO } from "./session.js";

const APPROVAL_KEY = "portcullis_approval";
const RELAY_KEY = "portcullis_relay";

/** What `requestState` carries: a pending approval, or a parked call waiting for a relayed answer. */
export interface SealedState {
  kind: "approval" | "relay";
  id: string;
}

/** Signs and checks the state carried in `requestState` (HMAC-SHA256, per-process key). */
export class ApprovalState {
  private readonly key = randomBytes(32);

  seal(state: SealedState, tool: string): string {
    const body = Buffer.from(JSON.stringify({ k: state.kind, a: state.id, t: tool })).toString("base64url");
    return `${body}.${createHmac("sha256", this.key).update(body).digest("base64url")}`;
  }

  /** The state when it is ours, untampered and for this tool; undefined otherwise. */
  open(state: string | undefined, tool: string): SealedState | undefined {
    if (!state) return undefined;
    const [body, mac] = state.split(".");
    if (!body || !mac) return undefined;
    const expected = createHmac("sha256", this.key).update(body).digest();
    const given = Buffer.from(mac, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const { k, a, t } = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as {
      k?: unknown;
      a?: unknown;
      t?: unknown;
    };
    if ((k !== "approval" && k !== "relay") || typeof a !== "string" || t !== tool) return undefined;
    return { kind: k, id: a };
  }
}

/** The capabilities the client sent in the request's `_meta` envelope. */
function clientCapabilities(ctx: ServerContext): ClientChannel["capabilities"] {
  const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
  return (envelope[CLIENT_CAPABILITIES_META_KEY] ?? {}) as ClientChannel["capabilities"];
}

function fault(e: unknown): never {
  if (e instanceof PolicyDeniedError)
    throw new ProtocolError(POLICY_DENIED_CODE, e.message, { decision: "deny", reasons: e.decision.reasons });
  if (isPortcullisError(e) && e.code === "GW_ERR_NOT_FOUND")
    throw new ProtocolError(-32602, e.message, e.details);
  // An upstream's JSON-RPC error (v1 SDK McpError) keeps its code and data on the 2026 wire.
  const rpc = e as { code?: unknown; message?: unknown; data?: unknown };
  if (typeof rpc?.code === "number" && typeof rpc.message === "string")
    throw new ProtocolError(rpc.code, rpc.message.replace(/^MCP error -?\d+: /, ""), rpc.data);
  throw e;
}

// Results cross from the v1 SDK's types (the pipeline) to the v2 SDK's own zod-inferred types; the
// JSON is the same MCP shape, so the handlers cast at that seam (`as never`) instead of copying.
function createModernServer(
  pipeline: Pipeline,
  principal: Principal,
  states: ApprovalState,
  parked: ParkedCalls,
): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: {},
      completions: {},
    },
  });
  const list = { credentials: { kind: "http" as const }, principal, transport: "http" as const };

  const request = (
    name: string,
    args: Record<string, unknown> | undefined,
    ctx: ServerContext,
  ): CallRequest => {
    const meta = (ctx.mcpReq._meta ?? {}) as Record<string, unknown>;
    const progressToken = meta.progressToken;
    const channel: ClientChannel = {
      era: "2026-07-28",
      capabilities: clientCapabilities(ctx),
      notify: async (n) => {
        await ctx.mcpReq.notify(n).catch(() => {});
      },
    };
    return {
      name,
      arguments: args ?? {},
      credentials: { kind: "http" },
      principal,
      transport: "http",
      signal: ctx.mcpReq.signal,
      client: channel,
      ...(progressToken !== undefined
        ? {
            onProgress: (p) =>
              void ctx.mcpReq
                .notify({
                  method: "notifications/progress",
                  params: { progressToken: progressToken as string | number, ...p },
                })
                .catch(() => {}),
          }
        : {}),
    };
  };

  server.setRequestHandler("tools/list", async () => ({ tools: (await pipeline.listTools(list)) as never }));

  /** Waits for the call's next event and turns it into this HTTP request's answer. */
  const answer = async (name: string, mailbox: CallMailbox, abort: AbortController) => {
    const event = await mailbox.next();
    if (event.kind === "ask") {
      const key = parked.park(mailbox, event.request, principal.id, abort);
      return inputRequired({
        inputRequests: {
          [RELAY_KEY]: { method: event.request.method, params: event.request.params } as never,
        },
        requestState: states.seal({ kind: "relay", id: key }, name),
      }) as never;
    }
    if (event.kind === "failed") {
      const e = event.error;
      if (isPortcullisError(e) && e.code !== "GW_ERR_NOT_FOUND")
        return { content: [{ type: "text", text: `${e.code}: ${e.message}` }], isError: true } as never;
      return fault(e);
    }
    return event.result as never;
  };

  server.setRequestHandler("tools/call", async (req, ctx) => {
    const name = req.params.name;
    const state = states.open(ctx.mcpReq.requestState<string>(), name);
    if (state?.kind === "relay") {
      const call = parked.take(state.id, principal.id);
      if (!call) throw new ProtocolError(-32602, "unknown or expired requestState");
      const response = ctx.mcpReq.inputResponses?.[RELAY_KEY];
      if (response === undefined) {
        // No answer in the retry: ask again with the same request.
        call.mailbox.push({ kind: "ask", request: call.pending });
      } else call.pending.answer(response);
      return answer(name, call.mailbox, call.abort);
    }
    if (state?.kind === "approval") {
      const view = inputResponse(ctx.mcpReq.inputResponses, APPROVAL_KEY);
      const granted = view.kind === "elicit" && isApproval(view);
      await pipeline.answerApproval(state.id, granted, principal.id);
    }
    // The call outlives this HTTP request when it needs input rounds, so it has its own signal.
    const abort = new AbortController();
    const mailbox = new CallMailbox();
    const caps = clientCapabilities(ctx);
    const base = request(name, req.params.arguments, ctx);
    const channel: ClientChannel = {
      ...base.client!,
      ...(caps?.elicitation
        ? {
            elicit: (params, signal) =>
              mailbox.relay(
                "elicitation/create",
                params as Record<string, unknown>,
                signal,
              ) as Promise<never>,
          }
        : {}),
      ...(caps?.sampling
        ? {
            createMessage: (params, signal) =>
              mailbox.relay(
                "sampling/createMessage",
                params as Record<string, unknown>,
                signal,
              ) as Promise<never>,
          }
        : {}),
    };
    pipeline.callTool({ ...base, client: channel, signal: abort.signal }).then(
      ({ ctx: call, result }) => {
        if (call.pendingApproval)
          mailbox.push({
            kind: "done",
            result: inputRequired({
              inputRequests: {
                [APPROVAL_KEY]: { method: "elicitation/create", params: call.pendingApproval.form },
              },
              requestState: states.seal({ kind: "approval", id: call.pendingApproval.id }, name),
            }) as unknown as CallToolResult,
          });
        else if (result) mailbox.push({ kind: "done", result });
        else mailbox.push({ kind: "failed", error: new Error("the call produced no result") });
      },
      (error: unknown) => mailbox.push({ kind: "failed", error }),
    );
    return answer(name, mailbox, abort);
  });

  server.setRequestHandler("prompts/list", async () => ({
    prompts: (await pipeline.listPrompts(list)) as never,
  }));
  server.setRequestHandler("prompts/get", async (req, ctx) => {
    try {
      const { result } = await pipeline.getPrompt(request(req.params.name, req.params.arguments, ctx));
      return result as never;
    } catch (e) {
      return fault(e);
    }
  });
  server.setRequestHandler("resources/list", async () => ({
    resources: (await pipeline.listResources(list)) as never,
  }));
  server.setRequestHandler("resources/templates/list", async () => ({
    resourceTemplates: (await pipeline.listResourceTemplates(list)) as never,
  }));
  server.setRequestHandler("resources/read", async (req, ctx) => {
    try {
      const { result } = await pipeline.readResource(request(req.params.uri, {}, ctx));
      return result as never;
    } catch (e) {
      return fault(e);
    }
  });
  server.setRequestHandler("completion/complete", async (req, ctx) => {
    try {
      return (await pipeline.complete(req.params as never, ctx.mcpReq.signal)) as never;
    } catch (e) {
      return fault(e);
    }
  });
  return server;
}

/** The 2026-era handler for the HTTP gate; `close()` releases the SDK handler. */
export function createModernHandler(pipeline: Pipeline): { handle: ModernHandler; close(): Promise<void> } {
  const states = new ApprovalState();
  const parked = new ParkedCalls();
  const handler: McpHttpHandler = createMcpHandler(
    (rc) => {
      const principal = rc.authInfo?.extra?.principal as Principal | undefined;
      if (!principal) throw new Error("request reached the 2026 handler without a principal");
      return createModernServer(pipeline, principal, states, parked);
    },
    { legacy: "reject", onerror: (e) => process.emitWarning(`mcp 2026: ${errorMessage(e)}`) },
  );
  return {
    handle: (req, body, principal) =>
      handler.fetch(req, {
        parsedBody: body,
        authInfo: { token: "", clientId: principal.id, scopes: principal.roles, extra: { principal } },
      }),
    close: async () => {
      parked.close();
      await handler.close();
    },
  };
}
