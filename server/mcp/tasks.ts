/**
 * The tasks extension (SEP-2663, `io.modelcontextprotocol/tasks`) on the gateway's 2026-07-28 face.
 * A `tools/call` is decided and audited as always; when the upstream answers with a task handle
 * (CreateTaskResult) and the client declared the extension, the `TaskTable` adopts it: the client
 * gets the handle under a gateway-minted task id, and the table remembers id → (upstream, the
 * upstream's task id, principal, tool, call id) for the task's TTL (bounded in count; the oldest
 * entry makes room). `tasks/get`, `tasks/update` and `tasks/cancel` are gated on the client's
 * declaration (-32021), routed to the owning upstream, and refused as an unknown task (-32602)
 * for any other principal. The call's outcome record is written when the gateway sees the task
 * end — in a `tasks/get` answer relayed to the client, or in the one `tasks/get` the gateway sends
 * itself right after relaying a `tasks/cancel` (it does not otherwise poll for a client that took
 * the handle); a task whose TTL runs out first is recorded as `timeout`, one still open at
 * shutdown as an error.
 */
import { randomUUID } from "node:crypto";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import {
  CLIENT_CAPABILITIES_META_KEY,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  type Server,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { errorMessage, isPortcullisError, PortcullisError } from "../../gateway/errors.js";
import type { Principal } from "../../gateway/pipeline/context.js";
import type { Registry } from "../../gateway/registry/registry.js";
import {
  type ClientChannel,
  TASKS_EXTENSION,
  type TaskCall,
  type TaskEnd,
  type TaskHandle,
  type TaskMethod,
} from "../../gateway/registry/source.js";

export interface TaskTableOptions {
  /** Tasks remembered at once; adopting one more forgets the oldest. Default 10,000. */
  maxTasks?: number;
  /** Upper bound of an entry's life, also used when the upstream gives no TTL. Default 1 h. */
  maxTtlMs?: number;
}

/** One adopted task. */
export interface TaskEntry {
  readonly id: string;
  readonly upstreamId: string;
  readonly call: TaskCall;
  readonly expiresAt: number;
}

interface Slot extends TaskEntry {
  timer: NodeJS.Timeout;
  ended: boolean;
  settle(end: TaskEnd): void;
}

/** How a DetailedTask's status maps to the call's outcome; undefined while the task runs. */
export function taskEnd(detailed: Record<string, unknown>): TaskEnd | undefined {
  switch (detailed.status) {
    case "completed": {
      const result = detailed.result as CallToolResult | undefined;
      return { status: result?.isError ? "error" : "ok", ...(result ? { result } : {}) };
    }
    case "failed": {
      const e = (detailed.error ?? {}) as { code?: unknown; message?: unknown };
      const code = typeof e.code === "number" ? e.code : -32603;
      const message = typeof e.message === "string" ? e.message : "the task failed";
      return { status: "error", error: Object.assign(new Error(message), { code }) };
    }
    case "cancelled":
      return { status: "cancelled" };
    default:
      return undefined;
  }
}

/** The gateway's table of adopted tasks (see the module header). */
export class TaskTable {
  private readonly slots = new Map<string, Slot>();
  private readonly maxTasks: number;
  private readonly maxTtlMs: number;

  constructor(opts: TaskTableOptions = {}) {
    this.maxTasks = opts.maxTasks ?? 10_000;
    this.maxTtlMs = opts.maxTtlMs ?? 3_600_000;
  }

  get size(): number {
    return this.slots.size;
  }

  /**
   * Adopts a task handle: the handle's `taskId` is replaced in place by the gateway's id (the
   * same object is what the client receives). Resolves when the gateway sees the task end.
   */
  adopt(handle: TaskHandle, call: TaskCall): Promise<TaskEnd> {
    while (this.slots.size >= this.maxTasks) {
      const oldest = this.slots.values().next().value as Slot;
      this.forget(oldest, {
        status: "error",
        error: new PortcullisError(
          "GW_ERR_LIMIT",
          `more than ${this.maxTasks} tasks open; the oldest was dropped`,
        ),
      });
    }
    const ttl =
      typeof handle.ttlMs === "number" && Number.isInteger(handle.ttlMs) && handle.ttlMs > 0
        ? Math.min(handle.ttlMs, this.maxTtlMs)
        : this.maxTtlMs;
    const id = randomUUID();
    const upstreamId = handle.taskId;
    handle.taskId = id;
    return new Promise<TaskEnd>((settle) => {
      const slot: Slot = {
        id,
        upstreamId,
        call,
        expiresAt: Date.now() + ttl,
        ended: false,
        settle,
        timer: setTimeout(() => {
          this.forget(slot, {
            status: "timeout",
            error: new PortcullisError(
              "GW_ERR_TIMEOUT",
              "the task's TTL ran out before the gateway saw it end",
            ),
          });
        }, ttl),
      };
      slot.timer.unref();
      this.slots.set(id, slot);
    });
  }

  /** The task for this principal; another principal's task is as unknown as a missing one. */
  lookup(id: string, principal: string): TaskEntry | undefined {
    const slot = this.slots.get(id);
    if (!slot || slot.call.principal !== principal) return undefined;
    if (slot.expiresAt <= Date.now()) {
      this.forget(slot, { status: "timeout" });
      return undefined;
    }
    return slot;
  }

  /** Records what a relayed tasks/get showed; the first terminal status settles the outcome. */
  observe(entry: TaskEntry, detailed: Record<string, unknown>): void {
    const slot = this.slots.get(entry.id);
    if (!slot || slot.ended) return;
    const end = taskEnd(detailed);
    if (!end) return;
    slot.ended = true;
    slot.settle(end);
  }

  private forget(slot: Slot, end: TaskEnd): void {
    clearTimeout(slot.timer);
    this.slots.delete(slot.id);
    if (!slot.ended) {
      slot.ended = true;
      slot.settle(end);
    }
  }

  /** Forgets every task; those not yet ended are recorded as ended by the shutdown. */
  close(): void {
    for (const slot of [...this.slots.values()])
      this.forget(slot, {
        status: "error",
        error: new PortcullisError(
          "GW_ERR_UPSTREAM_UNAVAILABLE",
          "the gateway stopped before the task ended",
        ),
      });
  }
}

/** True when this 2026 request declared the tasks extension in its `_meta` client capabilities. */
export function declaresTasks(ctx: ServerContext): boolean {
  const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
  const caps = envelope[CLIENT_CAPABILITIES_META_KEY] as { extensions?: Record<string, unknown> } | undefined;
  return Boolean(caps?.extensions?.[TASKS_EXTENSION]);
}

/** Whether any source can create tasks (the extension is advertised only then). */
export function tasksServable(registry: Registry): boolean {
  return registry.sources.some((s) => typeof s.taskRequest === "function");
}

/** The channel member that lets a call's task handle reach the client (only when declared). */
export function taskAdoption(
  table: TaskTable | undefined,
  ctx: ServerContext,
): Pick<ClientChannel, "adoptTask"> {
  return table && declaresTasks(ctx) ? { adoptTask: (handle, call) => table.adopt(handle, call) } : {};
}

/** A Standard Schema for params carrying a string `taskId`. */
const TASK_PARAMS = {
  "~standard": {
    version: 1 as const,
    vendor: "portcullis",
    validate: (v: unknown) =>
      typeof (v as { taskId?: unknown })?.taskId === "string"
        ? { value: v as { taskId: string; inputResponses?: unknown } }
        : { issues: [{ message: "taskId must be a string" }] },
  },
};

/** An upstream's JSON-RPC error keeps its code and data; anything else is an internal error. */
function relayError(e: unknown): never {
  if (e instanceof ProtocolError) throw e;
  const rpc = e as { code?: unknown; message?: unknown; data?: unknown };
  if (typeof rpc?.code === "number" && typeof rpc.message === "string")
    throw new ProtocolError(rpc.code, rpc.message.replace(/^MCP error -?\d+: /, ""), rpc.data);
  if (isPortcullisError(e)) throw new ProtocolError(-32603, `${e.code}: ${e.message}`);
  throw new ProtocolError(-32603, errorMessage(e));
}

/** Registers tasks/get, tasks/update and tasks/cancel on one per-request server. */
export function registerTaskMethods(server: Server, table: TaskTable, principal: Principal): void {
  const relay = async (
    method: TaskMethod,
    p: { taskId: string; inputResponses?: unknown },
    ctx: ServerContext,
  ) => {
    if (!declaresTasks(ctx))
      throw new MissingRequiredClientCapabilityError({
        requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
      });
    const entry = table.lookup(p.taskId, principal.id);
    const send = entry?.call.source.taskRequest;
    if (!entry || !send) throw new ProtocolError(-32602, `Unknown task: ${p.taskId}`);
    const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
    const client: ClientChannel = {
      era: "2026-07-28",
      capabilities: (envelope[CLIENT_CAPABILITIES_META_KEY] ?? {}) as ClientChannel["capabilities"],
      notify: async () => {},
    };
    // The SDK lifts `inputResponses` out of params into the request context.
    const answers = p.inputResponses ?? ctx.mcpReq.inputResponses;
    const params = {
      taskId: entry.upstreamId,
      ...(method === "tasks/update" ? { inputResponses: answers ?? {} } : {}),
    };
    let result: Record<string, unknown>;
    try {
      result = await send(method, params, { signal: ctx.mcpReq.signal, client });
    } catch (e) {
      return relayError(e);
    }
    // After a cancel, one tasks/get of the gateway's own, so a settled cancel is recorded now.
    if (method === "tasks/cancel")
      void send("tasks/get", { taskId: entry.upstreamId }, { client })
        .then((now) => table.observe(entry, now))
        .catch(() => {});
    if (method !== "tasks/get") return { resultType: "complete" as const };
    table.observe(entry, result);
    const { _meta: _upstreamMeta, ...detailed } = result;
    return { ...detailed, resultType: "complete" as const, taskId: entry.id };
  };
  for (const method of ["tasks/get", "tasks/update", "tasks/cancel"] as const)
    server.setRequestHandler(
      method,
      { params: TASK_PARAMS },
      (p, ctx) => relay(method, p as { taskId: string; inputResponses?: unknown }, ctx) as never,
    );
}
