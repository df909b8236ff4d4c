/**
 * Tool execution contract: a call going in (`ToolCallRequest`), its result coming out
 * (`ToolCallResult`, with MCP content under MCP's names) and the hash-chained `AuditEnvelope`
 * written for every decision and outcome. Arguments travel as a JSON object; the audit record
 * carries only their digest and, when policy allows, a redacted copy.
 */
import { z } from "zod";
import {
  documentChecks,
  Id,
  intIn,
  JsonObject,
  Millis,
  nonEmpty,
  Principal,
  Reason,
  Sha256Hex,
  Timestamp,
  ToolName,
  V1,
} from "./common.js";
import { Decision, PolicyTarget } from "./policy-decision.js";

export const ToolCallRequest = z
  .strictObject({
    v: V1,
    id: Id,
    tool: ToolName,
    arguments: JsonObject,
    principal: Principal,
    session: Id.optional(),
    deadline: Timestamp.optional(),
    idempotency_key: nonEmpty(256).optional(),
  })
  .superRefine(documentChecks)
  .describe("A request to call one tool");

/** MCP content blocks; members MCP may add later pass through. */
export const TextContent = z.looseObject({ type: z.literal("text"), text: z.string() });
export const ImageContent = z.looseObject({
  type: z.literal("image"),
  data: z.string(),
  mimeType: z.string(),
});
export const AudioContent = z.looseObject({
  type: z.literal("audio"),
  data: z.string(),
  mimeType: z.string(),
});
export const ResourceLink = z.looseObject({
  type: z.literal("resource_link"),
  uri: z.string(),
  name: z.string(),
});
export const EmbeddedResource = z.looseObject({
  type: z.literal("resource"),
  resource: z.looseObject({ uri: z.string() }),
});
export const ContentBlock = z.discriminatedUnion("type", [
  TextContent,
  ImageContent,
  AudioContent,
  ResourceLink,
  EmbeddedResource,
]);

export const ToolCallStatus = z.enum(["ok", "error", "denied", "pending_approval", "timeout", "cancelled"]);

export const Timings = z.strictObject({
  total_ms: Millis,
  policy_ms: Millis.optional(),
  upstream_ms: Millis.optional(),
});

export const ToolCallResult = z
  .strictObject({
    v: V1,
    id: Id,
    status: ToolCallStatus,
    content: z.array(ContentBlock),
    structuredContent: JsonObject.optional(),
    isError: z.boolean().optional(),
    reasons: z.array(Reason).optional(),
    timings: Timings,
  })
  .superRefine(documentChecks)
  .describe("The result of one tool call");

/** What an audit record is about: a policy target, or an administrative object. */
export const AuditTarget = PolicyTarget.extend({
  kind: z.enum(["tool", "prompt", "resource", "model", "bundle", "pin", "approval", "config"]),
});

/** Tokens a model call consumed, as the provider reported them. */
export const TokenUsage = z.strictObject({
  input_tokens: intIn(0, Number.MAX_SAFE_INTEGER),
  output_tokens: intIn(0, Number.MAX_SAFE_INTEGER),
});

export const AuditOutcome = z.strictObject({
  status: ToolCallStatus,
  error: z.strictObject({ code: nonEmpty(128), message: z.string().max(4096) }).optional(),
  result_digest: Sha256Hex.optional().describe("digest() of the result as returned to the caller"),
  usage: TokenUsage.optional().describe("Model calls: the tokens the provider reported"),
});

export const AuditEnvelope = z
  .strictObject({
    v: V1,
    seq: intIn(0, Number.MAX_SAFE_INTEGER),
    id: Id,
    ts: Timestamp,
    prev_hash: Sha256Hex.describe("hash of the previous record; 64 zeros for the first"),
    hash: Sha256Hex.describe("sha256 of the canonical JSON of this record without 'hash', chained"),
    kind: z.enum(["decision", "outcome", "admin"]),
    principal: Principal,
    session: Id.optional(),
    target: AuditTarget,
    args_digest: Sha256Hex.describe("digest() of the call's arguments"),
    args_redacted: JsonObject.optional(),
    decision: Decision.optional(),
    reasons: z.array(Reason).optional(),
    outcome: AuditOutcome.optional(),
    timings: Timings.optional(),
    policy_revision: nonEmpty(256).optional(),
    policy_hash: Sha256Hex.optional(),
    context_hash: Sha256Hex.optional(),
  })
  .superRefine(documentChecks)
  .describe("One hash-chained audit record");

export type ToolCallRequest = z.infer<typeof ToolCallRequest>;
export type ContentBlock = z.infer<typeof ContentBlock>;
export type ToolCallStatus = z.infer<typeof ToolCallStatus>;
export type Timings = z.infer<typeof Timings>;
export type ToolCallResult = z.infer<typeof ToolCallResult>;
export type AuditTarget = z.infer<typeof AuditTarget>;
export type TokenUsage = z.infer<typeof TokenUsage>;
export type AuditOutcome = z.infer<typeof AuditOutcome>;
export type AuditEnvelope = z.infer<typeof AuditEnvelope>;
/** An envelope before the audit log assigns seq, ts and the chain hashes. */
export type AuditEntry = Omit<AuditEnvelope, "seq" | "ts" | "prev_hash" | "hash">;
