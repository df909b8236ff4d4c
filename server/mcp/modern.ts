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
import { POLICY_DENIED_CODE, SERVER_INFO } from "./session.js";

const APPROVAL_KEY = "portcullis_approval";

/** Signs and checks the approval id carried in `requestState`. */
export class ApprovalState {
  private readonly key = randomBytes(32);

  seal(approvalId: string, tool: string): string {
    const body = Buffer.from(JSON.stringify({ a: approvalId, t: tool })).toString("base64url");
    return `${body}.${createHmac("sha256", this.key).update(body).digest("base64url")}`;
  }

  /** The approval id when the state is ours and for this tool; undefined otherwise. */
  open(state: string | undefined, tool: string): string | undefined {
    if (!state) return undefined;
    const [body, mac] = state.split(".");
    if (!body || !mac) return undefined;
    const expected = createHmac("sha256", this.key).update(body).digest();
    const given = Buffer.from(mac, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const { a, t } = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as {
      a?: unknown;
      t?: unknown;
    };
    return typeof a === "string" && t === tool ? a : undefined;
  }
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
function createModernServer(pipeline: Pipeline, principal: Principal, states: ApprovalState): Server {
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
      capabilities: (meta[CLIENT_CAPABILITIES_META_KEY] ?? {}) as ClientChannel["capabilities"],
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

  server.setRequestHandler("tools/call", async (req, ctx) => {
    const name = req.params.name;
    const approvalId = states.open(ctx.mcpReq.requestState<string>(), name);
    if (approvalId) {
      const view = inputResponse(ctx.mcpReq.inputResponses, APPROVAL_KEY);
      const granted = view.kind === "elicit" && isApproval(view);
      await pipeline.answerApproval(approvalId, granted, principal.id);
    }
    try {
      const { ctx: call, result } = await pipeline.callTool(request(name, req.params.arguments, ctx));
      if (call.pendingApproval)
        return inputRequired({
          inputRequests: {
            [APPROVAL_KEY]: { method: "elicitation/create", params: call.pendingApproval.form },
          },
          requestState: states.seal(call.pendingApproval.id, name),
        }) as never;
      return result as CallToolResult as never;
    } catch (e) {
      if (isPortcullisError(e) && e.code !== "GW_ERR_NOT_FOUND")
        return { content: [{ type: "text", text: `${e.code}: ${e.message}` }], isError: true } as never;
      return fault(e);
    }
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
  const handler: McpHttpHandler = createMcpHandler(
    (rc) => {
      const principal = rc.authInfo?.extra?.principal as Principal | undefined;
      if (!principal) throw new Error("request reached the 2026 handler without a principal");
      return createModernServer(pipeline, principal, states);
    },
    { legacy: "reject", onerror: (e) => process.emitWarning(`mcp 2026: ${errorMessage(e)}`) },
  );
  return {
    handle: (req, body, principal) =>
      handler.fetch(req, {
        parsedBody: body,
        authInfo: { token: "", clientId: principal.id, scopes: principal.roles, extra: { principal } },
      }),
    close: () => handler.close(),
  };
}
