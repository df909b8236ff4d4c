/**
 * The tasks extension (SEP-2663, `io.modelcontextprotocol/tasks`) for the 2026-07-28 conformance
 * fixture: the tools the suite's `tasks-*` scenarios call, a process-wide task table (the HTTP
 * entry builds a fresh server per request, so tasks outlive any one server), and the
 * `tasks/get`, `tasks/update` and `tasks/cancel` handlers. Task creation is server-directed: a
 * task-supporting tool makes a task only when the request's `_meta` client capabilities declare
 * the extension; `optional` tools otherwise run synchronously, `required` ones answer -32021.
 * A task that needs input parks in `input_required` with its `inputRequests`; `tasks/update`
 * answers some or all of them. Tool errors end `completed` with `result.isError`; protocol errors
 * end `failed` with an inlined JSON-RPC error.
 */
import { randomUUID } from "node:crypto";
import {
  CLIENT_CAPABILITIES_META_KEY as CAPS_KEY,
  inputRequired,
  MissingRequiredClientCapabilityError,
  ProtocolError,
} from "@modelcontextprotocol/server";

export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";
/** How long a task stays readable after it was created. */
const TTL_MS = 300_000;
const POLL_INTERVAL_MS = 200;

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

const object = (properties, required = []) => ({ type: "object", properties, required });

/** Tool definitions; `execution.taskSupport` says how each one relates to tasks. */
export const TASK_TOOLS = [
  {
    name: "greet",
    description: "Says hello (never a task)",
    inputSchema: object({ name: { type: "string" } }, ["name"]),
  },
  {
    name: "slow_compute",
    description: "Sleeps `seconds`, then answers (a task when the client supports tasks)",
    inputSchema: object({ seconds: { type: "number" }, label: { type: "string" } }),
    execution: { taskSupport: "optional" },
  },
  {
    name: "failing_job",
    description: "A task whose tool reports an error after about a second",
    inputSchema: object({}),
    execution: { taskSupport: "required" },
  },
  {
    name: "protocol_error_job",
    description: "A task that fails with a protocol error",
    inputSchema: object({}),
    execution: { taskSupport: "required" },
  },
  {
    name: "confirm_delete",
    description: "A task that asks for confirmation before 'deleting' a file",
    inputSchema: object({ filename: { type: "string" } }),
    execution: { taskSupport: "required" },
  },
  {
    name: "multi_input",
    description: "A task that asks two questions at once",
    inputSchema: object({}),
    execution: { taskSupport: "required" },
  },
  {
    name: "test_tool_with_task",
    description: "Asks for a name (input-required), then continues as a task",
    inputSchema: object({}),
    execution: { taskSupport: "required" },
  },
];

const SUPPORT = new Map(TASK_TOOLS.map((t) => [t.name, t.execution?.taskSupport ?? "forbidden"]));

const text = (t) => ({ content: [{ type: "text", text: t }] });
const elicit = (message, properties, required) => ({
  method: "elicitation/create",
  params: { message, requestedSchema: object(properties, required) },
});

/** True when this request's `_meta` client capabilities declare the tasks extension. */
export function declaresTasks(ctx) {
  return Boolean(ctx.mcpReq.envelope?.[CAPS_KEY]?.extensions?.[TASKS_EXTENSION]);
}

function requireTasks(ctx) {
  if (!declaresTasks(ctx))
    throw new MissingRequiredClientCapabilityError({
      requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
    });
}

/** taskId → task; each entry removes itself when its TTL runs out. */
const tasks = new Map();

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

function touch(task, status) {
  task.status = status;
  task.lastUpdatedAt = new Date().toISOString();
}

/**
 * Creates a task running `job(io)` and returns its CreateTaskResult. `io.ask(requests)` parks the
 * task in input_required until every request is answered; `io.sleep(ms)` ends early on cancel.
 */
function startTask(job) {
  const now = new Date().toISOString();
  const task = {
    taskId: randomUUID(),
    status: "working",
    createdAt: now,
    lastUpdatedAt: now,
    ttlMs: TTL_MS,
    pollIntervalMs: POLL_INTERVAL_MS,
    abort: new AbortController(),
    /** Outstanding input requests: key → { request, answer(response) }. */
    pending: new Map(),
  };
  tasks.set(task.taskId, task);
  setTimeout(() => tasks.delete(task.taskId), TTL_MS).unref();
  const io = {
    signal: task.abort.signal,
    sleep: (ms) => sleep(ms, task.abort.signal),
    ask: (requests) => {
      const answers = {};
      const waits = Object.entries(requests).map(
        ([key, request]) =>
          new Promise((resolve) => {
            task.pending.set(key, {
              request,
              answer: (r) => {
                answers[key] = r;
                resolve();
              },
            });
          }),
      );
      touch(task, "input_required");
      return Promise.all(waits).then(() => {
        if (!TERMINAL.has(task.status)) touch(task, "working");
        return answers;
      });
    },
  };
  job(io).then(
    (result) => {
      if (TERMINAL.has(task.status)) return;
      task.result = result;
      touch(task, "completed");
    },
    (e) => {
      if (TERMINAL.has(task.status)) return;
      const code = typeof e?.code === "number" ? e.code : -32603;
      task.error = { code, message: e instanceof Error ? e.message : String(e) };
      touch(task, "failed");
    },
  );
  return { resultType: "task", ...envelope(task) };
}

/** The Task fields every response about a task carries. */
function envelope(task) {
  return {
    taskId: task.taskId,
    status: task.status,
    createdAt: task.createdAt,
    lastUpdatedAt: task.lastUpdatedAt,
    ttlMs: task.ttlMs,
    pollIntervalMs: task.pollIntervalMs,
  };
}

/** tasks/get's DetailedTask: the result or error once terminal, the open requests while waiting. */
function detailed(task) {
  const out = { resultType: "complete", ...envelope(task) };
  if (task.status === "completed") out.result = task.result;
  if (task.status === "failed") out.error = task.error;
  if (task.status === "input_required")
    out.inputRequests = Object.fromEntries([...task.pending].map(([k, p]) => [k, p.request]));
  return out;
}

function known(taskId) {
  const task = tasks.get(taskId);
  if (!task) throw new ProtocolError(-32602, `Unknown task: ${taskId}`);
  return task;
}

const answeredName = (ctx) => {
  const r = ctx.mcpReq.inputResponses?.user_name;
  return r && typeof r === "object" && !Array.isArray(r) ? r.content?.name : undefined;
};

/** tools/call for the task tools; undefined for any other tool. */
export function taskToolCall(name, args, ctx) {
  const support = SUPPORT.get(name);
  if (support === undefined) return undefined;
  if (support === "required" && name !== "test_tool_with_task") requireTasks(ctx);
  const asTask = support !== "forbidden" && declaresTasks(ctx);
  switch (name) {
    case "greet":
      return text(`Hello, ${args.name}!`);
    case "slow_compute": {
      const seconds = Number(args.seconds ?? 0);
      const label = String(args.label ?? "");
      const done = () => text(`computed '${label}' after ${seconds}s`);
      if (!asTask) return sleep(seconds * 1000, ctx.mcpReq.signal).then(done);
      return startTask(async (io) => {
        await io.sleep(seconds * 1000);
        return done();
      });
    }
    case "failing_job":
      return startTask(async (io) => {
        await io.sleep(1000);
        return { ...text("failing_job: the job failed"), isError: true };
      });
    case "protocol_error_job":
      return startTask(async (io) => {
        await io.sleep(200);
        throw new ProtocolError(-32603, "protocol_error_job: internal failure");
      });
    case "confirm_delete":
      return startTask(async (io) => {
        const { confirm } = await io.ask({
          confirm: elicit(`Delete ${args.filename}?`, { confirm: { type: "boolean" } }, ["confirm"]),
        });
        const yes = confirm?.action === "accept" && confirm.content?.confirm === true;
        return text(yes ? `deleted ${args.filename}` : `kept ${args.filename}`);
      });
    case "multi_input":
      return startTask(async (io) => {
        const answers = await io.ask({
          first: elicit("First question: your name?", { name: { type: "string" } }, ["name"]),
          second: elicit("Second question: confirm?", { confirm: { type: "boolean" } }, ["confirm"]),
        });
        return text(`first=${answers.first?.content?.name}; second=${answers.second?.content?.confirm}`);
      });
    case "test_tool_with_task": {
      // Round 1 gathers the name synchronously (input-required); the final round becomes a task.
      const who = answeredName(ctx);
      if (who === undefined)
        return inputRequired({
          inputRequests: { user_name: elicit("What is your name?", { name: { type: "string" } }, ["name"]) },
        });
      requireTasks(ctx);
      return startTask(async (io) => {
        await io.sleep(300);
        return text(`Hello, ${who}! (finished as a task)`);
      });
    }
    default:
      return undefined;
  }
}

/** A Standard Schema for a params object carrying a string `taskId`. */
const taskParams = {
  "~standard": {
    version: 1,
    vendor: "portcullis-fixture",
    validate: (v) =>
      typeof v?.taskId === "string" ? { value: v } : { issues: [{ message: "taskId must be a string" }] },
  },
};

/** Registers tasks/get, tasks/update and tasks/cancel on one fixture server. */
export function registerTaskHandlers(server) {
  server.setRequestHandler("tasks/get", { params: taskParams }, async (p, ctx) => {
    requireTasks(ctx);
    return detailed(known(p.taskId));
  });
  server.setRequestHandler("tasks/update", { params: taskParams }, async (p, ctx) => {
    requireTasks(ctx);
    const task = known(p.taskId);
    // The SDK lifts `inputResponses` out of params into the request context.
    const responses = p.inputResponses ?? ctx.mcpReq.inputResponses;
    if (
      responses !== undefined &&
      (typeof responses !== "object" || responses === null || Array.isArray(responses))
    )
      throw new ProtocolError(-32602, "inputResponses must be an object");
    // Keys that are not outstanding (never issued, already answered) are ignored.
    for (const [key, response] of Object.entries(responses ?? {})) {
      const open = task.pending.get(key);
      if (!open) continue;
      task.pending.delete(key);
      open.answer(response);
    }
    if (task.status === "input_required") task.lastUpdatedAt = new Date().toISOString();
    return { resultType: "complete" };
  });
  server.setRequestHandler("tasks/cancel", { params: taskParams }, async (p, ctx) => {
    requireTasks(ctx);
    const task = known(p.taskId);
    if (!TERMINAL.has(task.status)) {
      task.pending.clear();
      touch(task, "cancelled");
      task.abort.abort(new Error("cancelled"));
    }
    return { resultType: "complete" };
  });
}
