/**
 * Workspace session contract: the ordered stream of `SessionEvent`s for one session — terminal,
 * browser and file activity, plus the gateway's own call and approval events. Events are streamed
 * over SSE, mirrored to MCP notifications and stored with the audit trail. Each kind fixes the
 * members its `data` must have; further members pass through.
 */
import { z } from "zod";
import { documentChecks, Id, intIn, Millis, nonEmpty, Timestamp, ToolName, V1 } from "./common.js";
import { ToolCallStatus } from "./tool-execution.js";

const PathString = nonEmpty(4096);

/**
 * What a gateway call event is about (added in v1, optional): a tool, a prompt, or a resource.
 * For prompts and resources `tool` names the MCP method (`prompts/get`, `resources/read`), since
 * a prompt name or resource URI need not be a tool name; `target` carries the name or URI.
 */
export const CallTargetKind = z.enum(["tool", "prompt", "resource"]);
const CallTarget = { target_kind: CallTargetKind.optional(), target: nonEmpty(8192).optional() };

/** `data` shape for each event kind. */
export const SessionEventData = {
  "terminal.input": z.looseObject({ text: z.string() }),
  "terminal.output": z.looseObject({ text: z.string(), stream: z.enum(["stdout", "stderr"]).optional() }),
  "browser.navigate": z.looseObject({ url: nonEmpty(8192) }),
  "browser.action": z.looseObject({ action: nonEmpty(128), selector: z.string().optional() }),
  "file.read": z.looseObject({ path: PathString, bytes: intIn(0, Number.MAX_SAFE_INTEGER).optional() }),
  "file.write": z.looseObject({ path: PathString, bytes: intIn(0, Number.MAX_SAFE_INTEGER).optional() }),
  "file.search": z.looseObject({
    query: z.string(),
    root: PathString.optional(),
    matches: intIn(0, Number.MAX_SAFE_INTEGER).optional(),
  }),
  "call.started": z.looseObject({ call_id: Id, tool: ToolName, ...CallTarget }),
  "call.completed": z.looseObject({
    call_id: Id,
    tool: ToolName,
    status: ToolCallStatus,
    total_ms: Millis.optional(),
    ...CallTarget,
  }),
  "approval.requested": z.looseObject({
    approval_id: Id,
    tool: ToolName,
    expires_at: Timestamp,
    ...CallTarget,
  }),
  "approval.resolved": z.looseObject({ approval_id: Id, granted: z.boolean(), by: Id }),
} as const;

export type SessionEventKind = keyof typeof SessionEventData;
export const SESSION_EVENT_KINDS = Object.keys(SessionEventData) as SessionEventKind[];
export const SessionEventKind = z.enum(SESSION_EVENT_KINDS as [SessionEventKind, ...SessionEventKind[]]);

function eventOf<K extends SessionEventKind>(kind: K) {
  return z.strictObject({
    v: V1,
    session: Id,
    seq: intIn(0, Number.MAX_SAFE_INTEGER),
    ts: Timestamp,
    kind: z.literal(kind),
    data: SessionEventData[kind],
  });
}

export const SessionEvent = z
  .discriminatedUnion("kind", [
    eventOf("terminal.input"),
    eventOf("terminal.output"),
    eventOf("browser.navigate"),
    eventOf("browser.action"),
    eventOf("file.read"),
    eventOf("file.write"),
    eventOf("file.search"),
    eventOf("call.started"),
    eventOf("call.completed"),
    eventOf("approval.requested"),
    eventOf("approval.resolved"),
  ])
  .superRefine(documentChecks)
  .describe("One event of a workspace session");

export type SessionEvent = z.infer<typeof SessionEvent>;
export type SessionEventDataOf<K extends SessionEventKind> = z.infer<(typeof SessionEventData)[K]>;
