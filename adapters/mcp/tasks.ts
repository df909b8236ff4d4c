/**
 * The tasks extension (SEP-2663) on a link to a 2026-07-28 upstream. The v2 SDK client knows only
 * `complete` and `input_required` results, so `TaskResultCapture` takes a `resultType: "task"`
 * response off the transport before the client decodes it, parks the raw CreateTaskResult and
 * lets the client see an input-required stand-in whose `requestState` names the parked result;
 * the link swaps it back. `awaitTask` is the synchronous path for a client that cannot take a
 * task handle (a 2025-era client): it polls `tasks/get` at the upstream's `pollIntervalMs`, relays
 * input requests to the client and answers with `tasks/update`, and cancels the task when the
 * call is aborted.
 */
import { CLIENT_CAPABILITIES_META_KEY } from "@modelcontextprotocol/client";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { PortcullisError } from "../../gateway/errors.js";
import {
  type ClientChannel,
  type InputRequest,
  isTaskHandle,
  TASKS_EXTENSION,
  type TaskHandle,
  type TaskMethod,
} from "../../gateway/registry/source.js";
import { fulfilInputs } from "./rounds.js";

/** `requestState` prefix of the stand-in; never sent on any wire. */
const PARKED = "portcullis-task-result:";

/** The part of a transport the capture wraps (both SDKs' transports have it). */
interface MessageSource {
  onmessage?: ((message: never, extra?: never) => void) | undefined;
}

export class TaskResultCapture {
  private readonly parked = new Map<string, TaskHandle>();
  private seq = 0;

  /** Attach after the client connected: its message handler is wrapped, not replaced. */
  constructor(transport: MessageSource) {
    const inner = transport.onmessage as ((m: unknown, extra?: unknown) => void) | undefined;
    const wrapped = (message: unknown, extra?: unknown) => {
      const m = message as { id?: unknown; method?: unknown; result?: unknown };
      if (m && m.id !== undefined && m.method === undefined && isTaskHandle(m.result)) {
        const key = `${PARKED}${++this.seq}`;
        this.parked.set(key, m.result);
        inner?.({ ...m, result: { resultType: "input_required", requestState: key } }, extra);
        return;
      }
      inner?.(message, extra);
    };
    transport.onmessage = wrapped as never;
  }

  /** The parked CreateTaskResult a stand-in names, else the value unchanged. */
  restore(value: unknown): unknown {
    const state = (value as { resultType?: unknown; requestState?: unknown } | null)?.requestState;
    if ((value as { resultType?: unknown }).resultType !== "input_required" || typeof state !== "string")
      return value;
    const task = this.parked.get(state);
    if (!task) return value;
    this.parked.delete(state);
    return task;
  }
}

/**
 * The `_meta` envelope for a 2026 upstream, with the tasks extension added for a 2025-era client:
 * the gateway follows any task itself (`awaitTask`), so a tool that requires tasks still answers
 * that client. A 2026 client's own declaration is forwarded as it is.
 */
export function taskEnvelope(
  envelope: Record<string, unknown>,
  channel: ClientChannel,
): Record<string, unknown> {
  if (channel.era !== "2025-11-25") return envelope;
  const caps = (envelope[CLIENT_CAPABILITIES_META_KEY] ?? {}) as { extensions?: Record<string, unknown> };
  return {
    ...envelope,
    [CLIENT_CAPABILITIES_META_KEY]: { ...caps, extensions: { ...caps.extensions, [TASKS_EXTENSION]: {} } },
  };
}

/** Sends one tasks/* request to the upstream that owns the task. */
export type TaskSend = (
  method: TaskMethod,
  params: Record<string, unknown>,
  signal?: AbortSignal,
) => Promise<Record<string, unknown>>;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Follows a task to its end for a client that cannot take a task handle: a completed task's
 * result is the call's result; a failed one rejects with its JSON-RPC error; a cancelled one
 * rejects. Input requests go to the client in the client's own era (`waitForClient` stops the
 * upstream's inactivity timer meanwhile).
 */
export async function awaitTask(
  task: TaskHandle,
  send: TaskSend,
  channel: ClientChannel | undefined,
  signal: AbortSignal,
  waitForClient: <R>(p: Promise<R>) => Promise<R>,
): Promise<CallToolResult> {
  const taskId = task.taskId;
  const interval = Math.min(Math.max(Number(task.pollIntervalMs) || 200, 20), 2_000);
  const asked = new Set<string>();
  try {
    for (;;) {
      const now = await send("tasks/get", { taskId });
      const status = now.status;
      if (status === "completed") return now.result as CallToolResult;
      if (status === "failed") {
        const e = (now.error ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
        throw Object.assign(new Error(typeof e.message === "string" ? e.message : "the task failed"), {
          code: typeof e.code === "number" ? e.code : -32603,
          data: e.data,
        });
      }
      if (status === "cancelled")
        throw new PortcullisError("GW_ERR_UPSTREAM", `the upstream cancelled task ${taskId}`);
      const open = Object.entries((now.inputRequests ?? {}) as Record<string, InputRequest>).filter(
        ([key]) => !asked.has(key),
      );
      if (status === "input_required" && open.length > 0) {
        for (const [key] of open) asked.add(key);
        const answers = await waitForClient(fulfilInputs(Object.fromEntries(open), channel, signal));
        await send("tasks/update", { taskId, inputResponses: answers });
        continue;
      }
      await pause(interval, signal);
    }
  } catch (e) {
    // The call was abandoned (client cancel, timeout): the task must not run on unobserved.
    if (signal.aborted) await send("tasks/cancel", { taskId }, AbortSignal.timeout(5_000)).catch(() => {});
    throw e;
  }
}
