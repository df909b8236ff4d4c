/**
 * The response bodies of the REST routes as zod schemas, used twice: the routes build their
 * responses through them (`toolList`, `approvalView`, `auditPage`), and openapi.ts publishes the
 * same schemas as components — so the document cannot drift from what the routes send. Tool
 * definitions are MCP's, so the tool schema names the members the gateway relies on and lets
 * later protocol members through; the others are strict.
 */
import { z } from "zod";
import { AuditEnvelope } from "../../contracts/index.js";
import type { Approval as StoredApproval } from "../../gateway/approvals/index.js";

/** A tool this principal may call (an MCP tool definition, qualified name). */
export const ToolView = z
  .looseObject({
    name: z.string().min(1).describe("Qualified tool name (server__tool)"),
    title: z.string().optional(),
    description: z.string().optional(),
    inputSchema: z.looseObject({ type: z.literal("object") }).describe("JSON Schema of the arguments"),
    outputSchema: z.looseObject({ type: z.literal("object") }).optional(),
    annotations: z
      .looseObject({
        title: z.string().optional(),
        readOnlyHint: z.boolean().optional(),
        destructiveHint: z.boolean().optional(),
        idempotentHint: z.boolean().optional(),
        openWorldHint: z.boolean().optional(),
      })
      .optional(),
  })
  .describe("An MCP tool definition");

export const ToolList = z.strictObject({ tools: z.array(ToolView) });
export type ToolList = z.infer<typeof ToolList>;

/** One approval as the API shows it (the store's record without its internal reuse state). */
export const ApprovalView = z.strictObject({
  id: z.string(),
  state: z.enum(["pending", "granted", "denied"]),
  principal: z.string().describe("Who asked"),
  tool: z.string(),
  args_digest: z.string().describe("Digest of the call's arguments the answer is bound to"),
  prompt: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  resolved_at: z.string().optional(),
  resolved_by: z.string().optional(),
});
export type ApprovalView = z.infer<typeof ApprovalView>;

export const ApprovalList = z.strictObject({ approvals: z.array(ApprovalView) });

export const AuditPage = z.strictObject({
  records: z.array(AuditEnvelope),
  next: z.string().optional().describe("Pass as `after` for the next page; absent on the last page"),
});
export type AuditPage = z.infer<typeof AuditPage>;

/** The tool list response; validated, so a definition the schema refuses is a 500, never sent. */
export function toolList(tools: readonly unknown[]): ToolList {
  return ToolList.parse({ tools });
}

export function approvalView(a: StoredApproval): ApprovalView {
  return ApprovalView.parse({
    id: a.id,
    state: a.state,
    principal: a.principal,
    tool: a.tool,
    args_digest: a.args_digest,
    prompt: a.prompt,
    created_at: a.created_at,
    expires_at: a.expires_at,
    ...(a.resolved_at ? { resolved_at: a.resolved_at, resolved_by: a.resolved_by } : {}),
  });
}
