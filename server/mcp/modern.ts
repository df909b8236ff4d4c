/**
 * The 2026-07-28 era over HTTP: stateless requests carrying version, capabilities and client info in
 * `_meta`, served by the v2 SDK's per-request handler (`server/discover`, header checks, result
 * types) with a fresh low-level server per request whose handlers call the same pipeline as the
 * 2025 era. ask_user becomes an input-required result: the approval form travels as an embedded
 * elicitation and the pending approval id as `requestState`, HMAC-protected with a per-process key;
 * the client's retry carries the answer, which is recorded before the call runs the pipeline again.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  CLIENT_CAPABILITIES_META_KEY,
  createMcpHandler,
  inputRequired,
  inputResponse,
  LOG_LEVEL_META_KEY,
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
import { type ClientChannel, TASKS_EXTENSION } from "../../gateway/registry/source.js";
import type { ModernHandler } from "./http.js";
import { HEADER_MISMATCH, paramHeaderMismatch } from "./param-headers.js";
import { CallMailbox, ParkedCalls } from "./parked.js";
import { POLICY_DENIED_CODE, SERVER_INFO } from "./session.js";
import { registerTaskMethods, TaskTable, taskAdoption, tasksServable } from "./tasks.js";

const APPROVAL_KEY = "portcullis_approval";

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
  tasks: TaskTable | undefined,
): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: {},
      completions: {},
      ...(tasks ? { extensions: { [TASKS_EXTENSION]: {} } } : {}),
    },
  });
  if (tasks) registerTaskMethods(server, tasks, principal);
  const list = { credentials: { kind: "http" as const }, principal, transport: "http" as const };

  const request = (
    name: string,
    args: Record<string, unknown> | undefined,
    ctx: ServerContext,
  ): CallRequest => {
    const meta = (ctx.mcpReq._meta ?? {}) as Record<string, unknown>;
    const progressToken = meta.progressToken;
    const logLevel = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[LOG_LEVEL_META_KEY];
    const channel: ClientChannel = {
      era: "2026-07-28",
      capabilities: clientCapabilities(ctx),
      ...(typeof logLevel === "string" ? { logLevel } : {}),
      ...taskAdoption(tasks, ctx),
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
        inputRequests: event.request.inputRequests as never,
        requestState: states.seal({ kind: "relay", id: key }, name),
      }) as never;
    }
    if (event.kind === "failed") {
      const e = event.error;
      if (isPortcullisError(e) && e.code !== "GW_ERR_NOT_FOUND" && mailbox.kind === "tools/call")
        return { content: [{ type: "text", text: `${e.code}: ${e.message}` }], isError: true } as never;
      return fault(e);
    }
    return event.result as never;
  };

  /** Our sealed state of a retry, if any; a state that is not ours (or was altered) is refused. */
  const sealed = (name: string, ctx: ServerContext): SealedState | undefined => {
    const raw = ctx.mcpReq.requestState<unknown>();
    if (raw === undefined) return undefined;
    const state = typeof raw === "string" ? states.open(raw, name) : undefined;
    if (!state) throw new ProtocolError(-32602, "requestState failed the integrity check");
    return state;
  };

  /** A retry of a parked call: its answers go to the waiting call; the answer is the next event. */
  const resume = (name: string, state: SealedState, ctx: ServerContext) => {
    const call = parked.take(state.id, principal.id);
    if (!call) throw new ProtocolError(-32602, "unknown or expired requestState");
    call.pending.answer(ctx.mcpReq.inputResponses ?? {});
    return answer(name, call.mailbox, call.abort);
  };

  /**
   * Starts a call that may need input rounds: the client channel can relay requests through the
   * call's mailbox, and the call outlives this HTTP request, so it has its own abort signal.
   */
  const start = (
    kind: CallMailbox["kind"],
    name: string,
    args: Record<string, unknown> | undefined,
    ctx: ServerContext,
    run: (req: CallRequest) => Promise<unknown>,
  ) => {
    const abort = new AbortController();
    const mailbox = new CallMailbox(kind);
    const caps = clientCapabilities(ctx);
    const base = request(name, args, ctx);
    const initial = ctx.mcpReq.inputResponses;
    const channel: ClientChannel = {
      ...base.client!,
      requestInput: (inputRequests, signal) => mailbox.requestInput(inputRequests, signal),
      ...(initial && Object.keys(initial).length > 0 ? { inputResponses: initial } : {}),
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
    run({ ...base, client: channel, signal: abort.signal }).then(
      (result) => mailbox.push({ kind: "done", result }),
      (error: unknown) => mailbox.push({ kind: "failed", error }),
    );
    return answer(name, mailbox, abort);
  };

  server.setRequestHandler("tools/call", async (req, ctx) => {
    const name = req.params.name;
    const state = sealed(name, ctx);
    if (state?.kind === "relay") return resume(name, state, ctx);
    if (state?.kind === "approval") {
      const view = inputResponse(ctx.mcpReq.inputResponses, APPROVAL_KEY);
      const granted = view.kind === "elicit" && isApproval(view);
      await pipeline.answerApproval(state.id, granted, principal.id);
    }
    return start("tools/call", name, req.params.arguments, ctx, async (call) => {
      const { ctx: done, result } = await pipeline.callTool(call);
      if (done.pendingApproval)
        return inputRequired({
          inputRequests: {
            [APPROVAL_KEY]: { method: "elicitation/create", params: done.pendingApproval.form },
          },
          requestState: states.seal({ kind: "approval", id: done.pendingApproval.id }, name),
        });
      if (!result) throw new Error("the call produced no result");
      return result;
    });
  });

  server.setRequestHandler("prompts/list", async () => ({
    prompts: (await pipeline.listPrompts(list)) as never,
  }));
  server.setRequestHandler("prompts/get", async (req, ctx) => {
    const name = req.params.name;
    const state = sealed(name, ctx);
    if (state?.kind === "relay") return resume(name, state, ctx);
    return start("prompts/get", name, req.params.arguments, ctx, async (call) => {
      return (await pipeline.getPrompt(call)).result;
    });
  });
  server.setRequestHandler("resources/list", async () => ({
    resources: (await pipeline.listResources(list)) as never,
  }));
  server.setRequestHandler("resources/templates/list", async () => ({
    resourceTemplates: (await pipeline.listResourceTemplates(list)) as never,
  }));
  server.setRequestHandler("resources/read", async (req, ctx) => {
    const uri = req.params.uri;
    const state = sealed(uri, ctx);
    if (state?.kind === "relay") return resume(uri, state, ctx);
    return start("resources/read", uri, {}, ctx, async (call) => (await pipeline.readResource(call)).result);
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
  // The tasks extension is served (and advertised) when some upstream can create tasks.
  const tasks = tasksServable(pipeline.registry) ? new TaskTable() : undefined;
  const handler: McpHttpHandler = createMcpHandler(
    (rc) => {
      const principal = rc.authInfo?.extra?.principal as Principal | undefined;
      if (!principal) throw new Error("request reached the 2026 handler without a principal");
      return createModernServer(pipeline, principal, states, parked, tasks);
    },
    { legacy: "reject", onerror: (e) => process.emitWarning(`mcp 2026: ${errorMessage(e)}`) },
  );
  // 2026 clients learn of list changes on their subscriptions/listen streams.
  const offList = pipeline.registry.onListChanged((kind) => {
    if (kind === "tools") handler.notify.toolsChanged();
    else if (kind === "prompts") handler.notify.promptsChanged();
    else handler.notify.resourcesChanged();
  });
  /** SEP-2243: a tools/call whose Mcp-Param-* headers disagree with its arguments gets 400/-32020. */
  const headerFault = async (req: Request, body: unknown): Promise<Response | undefined> => {
    const msg = body as { id?: unknown; method?: unknown; params?: { name?: unknown; arguments?: unknown } };
    if (msg?.method !== "tools/call" || typeof msg.params?.name !== "string") return undefined;
    const entry = await pipeline.registry.resolveTool(msg.params.name).catch(() => undefined);
    const args = (msg.params.arguments ?? {}) as Record<string, unknown>;
    const why = entry && paramHeaderMismatch(entry.tool.inputSchema, args, req.headers);
    if (!why) return undefined;
    return Response.json(
      {
        jsonrpc: "2.0",
        id: msg.id ?? null,
        error: { code: HEADER_MISMATCH, message: `Header mismatch: ${why}` },
      },
      { status: 400 },
    );
  };
  return {
    handle: async (req, body, principal) =>
      (await headerFault(req, body)) ??
      handler.fetch(req, {
        parsedBody: body,
        authInfo: { token: "", clientId: principal.id, scopes: principal.roles, extra: { principal } },
      }),
    close: async () => {
      offList();
      parked.close();
      tasks?.close();
      await handler.close();
    },
  };
}
