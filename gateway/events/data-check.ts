/**
 * A plain-code check of the gateway's own call and approval event data, so the two or three events
 * every call publishes do not each go through the contract's zod schema. It accepts only data the
 * schema (`SessionEventData` in contracts/workspace-session.ts) certainly accepts; anything it does
 * not accept is handed to the schema, which then accepts it or explains the refusal exactly as
 * before. The randomised test in data-check.test.ts holds it to that: never true where zod fails.
 */

/** The tool-name alphabet of `ToolName` in contracts/common.ts. */
const TOOL_NAME = /^[A-Za-z0-9_./-]{1,128}$/;
/** `ToolCallStatus` in contracts/tool-execution.ts. */
const STATUSES = new Set(["ok", "error", "denied", "pending_approval", "timeout", "cancelled"]);
/** `CallTargetKind` in contracts/workspace-session.ts. */
const TARGET_KINDS = new Set(["tool", "prompt", "resource"]);

type Data = Record<string, unknown>;

/** `Id`: a non-empty string of at most 256 UTF-16 code units. */
function isId(v: unknown): boolean {
  return typeof v === "string" && v.length > 0 && v.length <= 256;
}

function isToolName(v: unknown): boolean {
  return typeof v === "string" && TOOL_NAME.test(v);
}

/** The optional `target_kind` and `target` of a call event. */
function targetOk(d: Data): boolean {
  const kind = d.target_kind;
  if (kind !== undefined && !(typeof kind === "string" && TARGET_KINDS.has(kind))) return false;
  const target = d.target;
  return target === undefined || (typeof target === "string" && target.length > 0 && target.length <= 8192);
}

/**
 * True only when `data` (already known to be a non-array object) certainly matches the schema of
 * `kind`; false means "ask the schema", not "invalid". Kinds other than the gateway's own call and
 * approval events are always left to the schema.
 */
export function certainlyValidEventData(kind: string, data: object): boolean {
  const d = data as Data;
  switch (kind) {
    case "call.started":
      return isId(d.call_id) && isToolName(d.tool) && targetOk(d);
    case "call.completed": {
      if (!isId(d.call_id) || !isToolName(d.tool) || !targetOk(d)) return false;
      const status = d.status;
      if (!(typeof status === "string" && STATUSES.has(status))) return false;
      const ms = d.total_ms;
      // NaN fails both comparisons, as it fails z.number().
      return ms === undefined || (typeof ms === "number" && ms >= 0 && ms <= 86_400_000);
    }
    case "approval.resolved":
      return isId(d.approval_id) && typeof d.granted === "boolean" && isId(d.by);
    default:
      return false;
  }
}
