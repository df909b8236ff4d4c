/**
 * Cursor pagination of aggregated lists. The cursor is opaque to clients: a base64url JSON offset.
 * A cursor that does not decode is a protocol error (InvalidParams), as the MCP spec asks.
 */
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";

export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString("base64url");
}

export function decodeCursor(cursor: string): number {
  try {
    const { o } = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { o?: unknown };
    if (typeof o === "number" && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // fall through to the error below
  }
  throw new McpError(ErrorCode.InvalidParams, "invalid cursor");
}

export function paginate<T>(
  all: T[],
  cursor: string | undefined,
  pageSize: number,
): { items: T[]; nextCursor?: string } {
  const start = cursor === undefined ? 0 : decodeCursor(cursor);
  const items = all.slice(start, start + pageSize);
  const end = start + items.length;
  return end < all.length ? { items, nextCursor: encodeCursor(end) } : { items };
}
