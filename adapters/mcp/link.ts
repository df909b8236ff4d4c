/**
 * The wire link to one upstream, in the era its config names. `2025-11-25` speaks through the v1
 * SDK `Client` (initialize handshake; the upstream sends elicitation/sampling requests back
 * mid-call). `2026-07-28` speaks through the v2 SDK `Client` pinned to that revision: stateless
 * requests with the `_meta` envelope, and input the upstream needs arrives as an `input_required`
 * result, handed back to the caller as is (manual multi-round-trip mode) so the gateway can relay
 * it to its own client and retry. `Upstream` sees one small interface for both.
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernHttpTransport,
  SdkError,
  SdkErrorCode,
} from "@modelcontextprotocol/client";
import { StdioClientTransport as ModernStdioTransport } from "@modelcontextprotocol/client/stdio";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  CallToolResultSchema,
  CompleteResultSchema,
  CreateMessageRequestSchema,
  type CreateMessageResult,
  ElicitRequestSchema,
  type ElicitResult,
  EmptyResultSchema,
  ErrorCode,
  GetPromptResultSchema,
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ProgressNotificationSchema,
  PromptListChangedNotificationSchema,
  ReadResourceResultSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type ServerCapabilities,
  type ServerNotification,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { ListKind, TaskMethod } from "../../gateway/registry/source.js";
import type { CallAbort } from "./call-abort.js";
import { DirectToolCalls } from "./direct-call.js";
import { TaskResultCapture } from "./tasks.js";
import { transportFetch } from "./transport-fetch.js";

export type UpstreamEra = "2025-11-25" | "2026-07-28";

/** What the config asks for: one era, or `auto` (probe with server/discover, else initialize). */
export type LinkProtocol = UpstreamEra | "auto";

/** Where the link starts: a stdio command or a Streamable HTTP URL (secrets already resolved). */
export type LinkTarget =
  | { kind: "stdio"; command: string; args: string[]; env: Record<string, string>; cwd: string }
  | { kind: "http"; url: string; headers: Record<string, string> };

/** What the upstream sends the gateway outside of a response. */
export interface LinkHooks {
  elicit(params: Record<string, unknown>, signal: AbortSignal): Promise<ElicitResult>;
  createMessage(params: Record<string, unknown>, signal: AbortSignal): Promise<CreateMessageResult>;
  progress(n: { progressToken: string | number; progress: number; total?: number; message?: string }): void;
  log(n: ServerNotification): void;
  listChanged(kind: ListKind): void;
  resourceUpdated(uri: string): void;
  stderr(text: string): void;
  closed(): void;
}

export type LinkMethod =
  | "tools/call"
  | "prompts/get"
  | "resources/read"
  | "completion/complete"
  | "logging/setLevel"
  | "resources/subscribe"
  | "resources/unsubscribe";

export type ListMethod = "tools/list" | "prompts/list" | "resources/list" | "resources/templates/list";

export interface SendOptions {
  signal: AbortSignal;
  timeout: number;
  /**
   * The call's abort state; a direct tool call takes it instead of `signal` (see call-abort.ts).
   * `signal` may be a prototype getter: copy fields by name, never by spreading the options.
   */
  abort?: CallAbort;
}

export interface UpstreamLink {
  readonly era: UpstreamEra;
  readonly pid: number | null;
  capabilities(): ServerCapabilities;
  /** One request; a 2026 upstream's `input_required` result is returned as is. */
  send(method: LinkMethod, params: Record<string, unknown>, options: SendOptions): Promise<unknown>;
  /** Tasks extension (2026 links only): one tasks/* request, its raw result. */
  task?(
    method: TaskMethod,
    params: Record<string, unknown>,
    options: SendOptions,
  ): Promise<Record<string, unknown>>;
  /** One page of a list. */
  list(
    method: ListMethod,
    cursor: string | undefined,
    options: SendOptions,
  ): Promise<{ items: unknown[]; nextCursor?: string }>;
  close(): Promise<void>;
}

/** tasks/* results are relayed as the upstream sent them (a Standard Schema that accepts objects). */
const ANY_RESULT = {
  "~standard": {
    version: 1,
    vendor: "portcullis",
    validate: (value: unknown) =>
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? { value }
        : { issues: [{ message: "the result is not an object" }] },
  },
} as const;

const LIST_SCHEMA = {
  "tools/list": ListToolsResultSchema,
  "prompts/list": ListPromptsResultSchema,
  "resources/list": ListResourcesResultSchema,
  "resources/templates/list": ListResourceTemplatesResultSchema,
} as const;

/** True when the error means the connection is gone (either SDK's spelling). */
export function isConnectionClosed(e: unknown): boolean {
  if (e instanceof McpError && e.code === ErrorCode.ConnectionClosed) return true;
  return e instanceof SdkError && e.code === SdkErrorCode.ConnectionClosed;
}

const LIST_KEY: Record<ListMethod, string> = {
  "tools/list": "tools",
  "prompts/list": "prompts",
  "resources/list": "resources",
  "resources/templates/list": "resourceTemplates",
};

/** What the SDK clients get: plain fields (the `signal` of SendOptions may be a prototype getter). */
function sdkOptions(options: SendOptions): { signal: AbortSignal; timeout: number } {
  return { signal: options.signal, timeout: options.timeout };
}

/** The HTTP transports' fetch: one abort listener per transport signal, not one per request. */
const upstreamFetch = transportFetch();

/** Opens the link; rejects (after closing the transport) when the handshake fails. */
export async function openLink(
  protocol: LinkProtocol,
  target: LinkTarget,
  hooks: LinkHooks,
): Promise<UpstreamLink> {
  return protocol === "2025-11-25" ? openLegacy(target, hooks) : openModern(target, hooks, protocol);
}

async function openLegacy(target: LinkTarget, hooks: LinkHooks): Promise<UpstreamLink> {
  const transport =
    target.kind === "stdio"
      ? new StdioClientTransport({ ...target, stderr: "pipe" })
      : new StreamableHTTPClientTransport(new URL(target.url), {
          requestInit: { headers: target.headers },
          fetch: upstreamFetch,
        });
  if (transport instanceof StdioClientTransport)
    transport.stderr?.on("data", (chunk: Buffer) => hooks.stderr(chunk.toString("utf8")));
  const client = new Client(
    { name: "portcullis", version: "0.1.0" },
    { capabilities: { elicitation: { form: {}, url: {} }, sampling: {} } },
  );
  client.setRequestHandler(ElicitRequestSchema, (req, extra) => hooks.elicit(req.params, extra.signal));
  client.setRequestHandler(CreateMessageRequestSchema, (req, extra) =>
    hooks.createMessage(req.params, extra.signal),
  );
  client.setNotificationHandler(ProgressNotificationSchema, (n) => hooks.progress(n.params));
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => hooks.log(n));
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => hooks.listChanged("tools"));
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => hooks.listChanged("prompts"));
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => hooks.listChanged("resources"));
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) =>
    hooks.resourceUpdated(n.params.uri),
  );
  client.onclose = () => hooks.closed();
  try {
    await client.connect(transport);
  } catch (e) {
    await transport.close().catch(() => {});
    throw e;
  }
  const schemas = {
    "tools/call": CallToolResultSchema,
    "prompts/get": GetPromptResultSchema,
    "resources/read": ReadResourceResultSchema,
    "completion/complete": CompleteResultSchema,
    "logging/setLevel": EmptyResultSchema,
    "resources/subscribe": EmptyResultSchema,
    "resources/unsubscribe": EmptyResultSchema,
  } as const;
  // Tool calls over stdio skip the client's request machinery (see direct-call.ts).
  const direct = transport instanceof StdioClientTransport ? new DirectToolCalls(transport) : undefined;
  return {
    era: "2025-11-25",
    get pid() {
      return transport instanceof StdioClientTransport ? transport.pid : null;
    },
    capabilities: () => client.getServerCapabilities() ?? {},
    send: (method, params, options) =>
      direct && method === "tools/call"
        ? direct.call(params, options.abort ?? options.signal)
        : // The v1 client types each method's params; the shapes are built by Upstream for that method.
          client.request({ method, params } as never, schemas[method], sdkOptions(options)),
    list: async (method, cursor, options) => {
      const page = (await client.request(
        { method, params: cursor ? { cursor } : {} } as never,
        LIST_SCHEMA[method],
        sdkOptions(options),
      )) as Record<string, unknown>;
      return {
        items: (page[LIST_KEY[method]] as unknown[]) ?? [],
        ...(typeof page.nextCursor === "string" ? { nextCursor: page.nextCursor } : {}),
      };
    },
    close: () => client.close(),
  };
}

/**
 * The v2 client: pinned to 2026-07-28, or `auto` — the SDK probes with `server/discover` (on a
 * short-lived sibling process for stdio) and falls back to the 2025 handshake, in which case the
 * upstream's mid-call requests are relayed through the same hooks as the v1 link's.
 */
async function openModern(
  target: LinkTarget,
  hooks: LinkHooks,
  protocol: "2026-07-28" | "auto",
): Promise<UpstreamLink> {
  const transport =
    target.kind === "stdio"
      ? new ModernStdioTransport({ ...target, stderr: "pipe" })
      : new ModernHttpTransport(new URL(target.url), {
          requestInit: { headers: target.headers },
          fetch: upstreamFetch,
        });
  if (transport instanceof ModernStdioTransport)
    transport.stderr?.on("data", (chunk: Buffer) => hooks.stderr(chunk.toString("utf8")));
  const client = new ModernClient(
    { name: "portcullis", version: "0.1.0" },
    {
      capabilities: { elicitation: { form: {}, url: {} }, sampling: {}, roots: {} },
      versionNegotiation: { mode: protocol === "auto" ? "auto" : { pin: "2026-07-28" } },
      // Rounds are relayed to the gateway's own client, never answered by the link itself.
      inputRequired: { autoFulfill: false },
      // On the 2026 era list changes arrive on a subscriptions/listen stream the client opens.
      listChanged: {
        tools: { autoRefresh: false, debounceMs: 0, onChanged: () => hooks.listChanged("tools") },
        prompts: { autoRefresh: false, debounceMs: 0, onChanged: () => hooks.listChanged("prompts") },
        resources: { autoRefresh: false, debounceMs: 0, onChanged: () => hooks.listChanged("resources") },
      },
    },
  );
  // Only reached on a 2025 era negotiated by `auto` (the 2026 era has no server-to-client requests).
  client.setRequestHandler(
    "elicitation/create",
    (req, ctx) => hooks.elicit(req.params as Record<string, unknown>, ctx.mcpReq.signal) as never,
  );
  client.setRequestHandler(
    "sampling/createMessage",
    (req, ctx) => hooks.createMessage(req.params as Record<string, unknown>, ctx.mcpReq.signal) as never,
  );
  client.setNotificationHandler("notifications/progress", (n) => hooks.progress(n.params));
  client.setNotificationHandler("notifications/message", (n) => hooks.log(n as ServerNotification));
  client.setNotificationHandler("notifications/resources/updated", (n) =>
    hooks.resourceUpdated(n.params.uri),
  );
  client.onclose = () => hooks.closed();
  try {
    await client.connect(transport);
  } catch (e) {
    await transport.close().catch(() => {});
    throw e;
  }
  // CreateTaskResults are taken off the wire before the client decodes them (see tasks.ts).
  const tasks = new TaskResultCapture(transport);
  return {
    era: client.getProtocolEra() === "modern" ? "2026-07-28" : "2025-11-25",
    get pid() {
      return transport instanceof ModernStdioTransport ? transport.pid : null;
    },
    capabilities: () => (client.getServerCapabilities() ?? {}) as ServerCapabilities,
    send: async (method, params, options) =>
      // The v2 client's method-typed overload validates the result for the method.
      tasks.restore(
        await client.request({ method, params } as never, {
          ...sdkOptions(options),
          allowInputRequired: true,
        }),
      ),
    task: async (method, params, options) => ({
      resultType: "complete",
      ...((await client.request({ method, params } as never, ANY_RESULT, sdkOptions(options))) as Record<
        string,
        unknown
      >),
    }),
    list: async (method, cursor, options) => {
      const page = (await client.request(
        { method, params: cursor ? { cursor } : {} } as never,
        sdkOptions(options),
      )) as Record<string, unknown>;
      return {
        items: (page[LIST_KEY[method]] as unknown[]) ?? [],
        ...(typeof page.nextCursor === "string" ? { nextCursor: page.nextCursor } : {}),
      };
    },
    close: () => client.close(),
  };
}
