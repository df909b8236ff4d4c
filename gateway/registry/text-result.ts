/**
 * The usual tool result: text content blocks and an optional boolean `isError`, nothing else.
 * Several hot paths treat it specially because its shape is fully known: the MCP result schema
 * would return it unchanged (so the fast paths skip that parse), and its canonical JSON can be
 * written directly for the outcome record's digest.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `{content: [{type: "text", text}...], isError?: boolean}` with no other members anywhere. */
export function isTextOnlyResult(r: unknown): r is CallToolResult {
  if (!isRecord(r)) return false;
  for (const k in r) if (k !== "content" && k !== "isError") return false;
  if (r.isError !== undefined && typeof r.isError !== "boolean") return false;
  if (!Array.isArray(r.content)) return false;
  for (const block of r.content) {
    if (!isRecord(block) || block.type !== "text" || typeof block.text !== "string") return false;
    for (const k in block) if (k !== "type" && k !== "text") return false;
  }
  return true;
}
