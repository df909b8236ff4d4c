/**
 * Policy decision contract: what the gateway asks the policy (`PolicyInput`) and what it gets back
 * (`PolicyDecision`). Precedence inside the policy is deny > ask_user > allow and nothing matched
 * means deny; the host supplies time and ids through `context`, so evaluation stays deterministic.
 * For the list actions the input's target is one listed item and `allow` means "visible".
 */
import { z } from "zod";
import {
  DataClass,
  documentChecks,
  Id,
  intIn,
  JsonObject,
  nonEmpty,
  Principal,
  ProviderId,
  Reason,
  Sha256Hex,
  Timestamp,
  V1,
} from "./common.js";

export const PolicyAction = z.enum([
  "tools/call",
  "tools/list",
  "prompts/get",
  "prompts/list",
  "resources/read",
  "resources/list",
  "model/call",
  "model/list",
  "approvals/resolve",
]);

export const TargetKind = z.enum(["tool", "prompt", "resource", "model"]);

/** MCP tool annotations, kept under MCP's names; unknown hints pass through. */
export const ToolAnnotations = z.looseObject({
  title: z.string().optional(),
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});

export const PolicyTarget = z.strictObject({
  kind: TargetKind,
  name: nonEmpty(2048).describe("Qualified name (tool/prompt), URI (resource) or model name"),
  server: Id.optional().describe("Upstream server or built-in capability that serves the target"),
  annotations: ToolAnnotations.optional(),
  definition_hash: Sha256Hex.optional().describe("digest() of the target's definition"),
  changed: z.boolean().optional().describe("The definition differs from the pinned one"),
  provider: z.strictObject({ id: ProviderId, local: z.boolean() }).optional(),
  model: nonEmpty(256).optional(),
});

/** One sanitizer finding: which class, which detector, where (a JSON Pointer into the arguments). */
export const Finding = z.strictObject({
  class: DataClass,
  detector: nonEmpty(128),
  path: z.string().max(4096),
});

export const PolicyContext = z.strictObject({
  time: Timestamp,
  request_id: Id,
  transport: z.enum(["stdio", "http"]),
  session: Id.optional(),
});

export const PolicyInput = z
  .strictObject({
    v: V1,
    action: PolicyAction,
    principal: Principal,
    target: PolicyTarget,
    arguments: JsonObject,
    data_classes: z.array(DataClass),
    findings: z.array(Finding).optional(),
    context: PolicyContext,
  })
  .superRefine(documentChecks)
  .describe("Input to one policy decision");

export const AuditLevel = z.enum(["minimal", "standard", "full"]);

export const Obligations = z.strictObject({
  redact: z.array(DataClass).optional().describe("Data classes to redact in audit and egress"),
  audit_level: AuditLevel.optional(),
  rate_limit: z.strictObject({ limit: intIn(1, 1_000_000_000), window_s: intIn(1, 86_400) }).optional(),
  timeout_ms: intIn(1, 3_600_000).optional(),
});

export const Ask = z.strictObject({
  prompt: nonEmpty(4096),
  ttl_s: intIn(1, 86_400),
});

export const Decision = z.enum(["allow", "deny", "ask_user"]);

export const PolicyDecision = z
  .strictObject({
    v: V1,
    decision: Decision,
    reasons: z.array(Reason),
    obligations: Obligations,
    ask: Ask.optional(),
    cacheable: z.boolean().optional(),
  })
  .superRefine((d, ctx) => {
    if (d.decision === "ask_user" && d.ask === undefined) {
      ctx.addIssue({ code: "custom", message: "decision ask_user requires 'ask'", path: ["ask"], input: d });
    }
  })
  .superRefine(documentChecks)
  .describe("Result of one policy decision");

export type PolicyAction = z.infer<typeof PolicyAction>;
export type TargetKind = z.infer<typeof TargetKind>;
export type ToolAnnotations = z.infer<typeof ToolAnnotations>;
export type PolicyTarget = z.infer<typeof PolicyTarget>;
export type Finding = z.infer<typeof Finding>;
export type PolicyContext = z.infer<typeof PolicyContext>;
export type PolicyInput = z.infer<typeof PolicyInput>;
export type AuditLevel = z.infer<typeof AuditLevel>;
export type Obligations = z.infer<typeof Obligations>;
export type Ask = z.infer<typeof Ask>;
export type Decision = z.infer<typeof Decision>;
export type PolicyDecision = z.infer<typeof PolicyDecision>;
