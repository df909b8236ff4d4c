/**
 * The one interface every capability provider implements for the registry: an upstream MCP server
 * (adapters/mcp), or the built-in workspace and memory capabilities. A source knows nothing about
 * policy; it lists what it offers under its own names and executes calls. Requests the source
 * needs to send back to the person (elicitation, sampling) go through the `ClientChannel` of the
 * call that caused them.
 */
import type {
  CallToolResult,
  CompleteRequest,
  CompleteResult,
  CreateMessageRequest,
  CreateMessageResult,
  ElicitRequest,
  ElicitResult,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  ServerNotification,
  Tool,
} from "@modelcontextprotocol/sdk/types.js";

/** What a call may ask of the client that started it, in the client's own era. */
export interface ClientChannel {
  /** Protocol era of the downstream client. */
  readonly era: "2025-11-25" | "2026-07-28";
  /** Capabilities the client declared (or sent in `_meta` for the 2026 era). */
  readonly capabilities: { elicitation?: { form?: object; url?: object }; sampling?: object; roots?: object };
  /** Sends a request to the client; rejects when the client cannot take it. */
  elicit?(params: ElicitRequest["params"], signal?: AbortSignal): Promise<ElicitResult>;
  createMessage?(params: CreateMessageRequest["params"], signal?: AbortSignal): Promise<CreateMessageResult>;
  /** Asks the client for its roots (2025 era: a roots/list request). */
  listRoots?(signal?: AbortSignal): Promise<{ roots: { uri: string; name?: string }[] }>;
  /**
   * 2026 era: relays a 2026 upstream's `inputRequests` to the client as they are (one
   * input-required round) and resolves with the client's `inputResponses`.
   */
  requestInput?(
    inputRequests: Record<string, InputRequest>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>>;
  /** 2026 era: `inputResponses` the client sent with the original request (forwarded upstream). */
  readonly inputResponses?: Record<string, unknown>;
  /** The log level the client asked for (2025: logging/setLevel; 2026: the request's `_meta`). */
  readonly logLevel?: string;
  /**
   * Present when the client takes task handles (a 2026 client that declared the tasks extension):
   * the gateway remembers the task and the call's outcome is recorded when the task ends. Without
   * it a source that gets a task handle polls the task to its end and answers synchronously.
   */
  adoptTask?(task: TaskHandle, call: TaskCall): Promise<TaskEnd>;
  /** A notification tied to this call (progress, logging); dropped when the call is over. */
  notify(notification: ServerNotification): Promise<void>;
}

/** The tasks extension (SEP-2663): a `tools/call` may answer with a task handle instead. */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

/** A CreateTaskResult: `resultType: "task"` and the task's fields at the top level. */
export interface TaskHandle {
  resultType: "task";
  taskId: string;
  status: string;
  ttlMs?: number | null;
  pollIntervalMs?: number;
  [key: string]: unknown;
}

export function isTaskHandle(result: unknown): result is TaskHandle {
  const r = result as { resultType?: unknown; taskId?: unknown } | null;
  return typeof r === "object" && r !== null && r.resultType === "task" && typeof r.taskId === "string";
}

/** The call a task handle answered. */
export interface TaskCall {
  callId: string;
  principal: string;
  tool: string;
  source: CapabilitySource;
}

/** How a task ended, as the gateway saw it. */
export interface TaskEnd {
  status: "ok" | "error" | "cancelled" | "timeout";
  result?: CallToolResult;
  error?: unknown;
}

export type TaskMethod = "tasks/get" | "tasks/update" | "tasks/cancel";

/** One request a 2026-era server embeds in an input-required result. */
export interface InputRequest {
  method: string;
  params?: Record<string, unknown>;
}

export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

/**
 * A call's abort state whose `AbortSignal` is made only when read; `onAbort` registers a plain
 * callback (called once, on the abort; not when already aborted) and returns its unregistration.
 * `CallAbort` (adapters/mcp/call-abort.ts) is one.
 */
export interface AbortState {
  readonly aborted: boolean;
  readonly reason: unknown;
  readonly signal: AbortSignal;
  onAbort(fn: (reason: unknown) => void): () => void;
}

export interface SourceCallOptions {
  signal?: AbortSignal;
  /** The same abort as `signal`, for a source that can take a callback instead of a listener. */
  abort?: AbortState;
  onProgress?: (update: ProgressUpdate) => void;
  client?: ClientChannel;
  /** `_meta` the client sent (minus the progress token, which the source owns). */
  meta?: Record<string, unknown>;
}

export type ListKind = "tools" | "prompts" | "resources";

export interface SourceEvents {
  /** One of the source's lists changed; the registry drops its cache and tells clients. */
  onListChanged?(kind: ListKind): void;
  /** A subscribed resource changed. */
  onResourceUpdated?(uri: string): void;
}

export interface CapabilitySource {
  /** Server name from the config (or "workspace" / "memory" for built-ins). */
  readonly name: string;
  /** Prefix of this source's tool and prompt names ('' allowed). */
  readonly prefix: string;
  listTools(): Promise<Tool[]>;
  callTool(name: string, args: Record<string, unknown>, opts: SourceCallOptions): Promise<CallToolResult>;
  listPrompts(): Promise<Prompt[]>;
  getPrompt(name: string, args: Record<string, string>, opts: SourceCallOptions): Promise<GetPromptResult>;
  listResources(): Promise<Resource[]>;
  listResourceTemplates(): Promise<ResourceTemplate[]>;
  readResource(uri: string, opts: SourceCallOptions): Promise<ReadResourceResult>;
  complete(params: CompleteRequest["params"], opts: SourceCallOptions): Promise<CompleteResult>;
  /** Forwards a client's logging/setLevel (sources without a log level omit it). */
  setLogLevel?(level: string): Promise<void>;
  subscribe?(uri: string): Promise<void>;
  unsubscribe?(uri: string): Promise<void>;
  /**
   * Tasks extension: sends `tasks/get`, `tasks/update` or `tasks/cancel` for one of this source's
   * tasks and resolves with the raw result. Absent on sources that never create tasks.
   */
  taskRequest?(
    method: TaskMethod,
    params: Record<string, unknown>,
    opts: SourceCallOptions,
  ): Promise<Record<string, unknown>>;
  /** Registers the registry's listener; one per source. */
  setEvents(events: SourceEvents): void;
  close(): Promise<void>;
}
