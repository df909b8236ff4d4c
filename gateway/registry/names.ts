/**
 * Qualified names of aggregated capabilities. Each upstream contributes its items under a prefix
 * (`<server>__` by default, possibly empty); MCP clients commonly cap tool names at 64 characters,
 * so a longer qualified name is shortened deterministically: the head is kept and a short hash of
 * the full name is appended. The same input always yields the same name, and two different inputs
 * never share one (the registry checks and refuses a collision instead of shadowing a tool).
 */
import { sha256Hex } from "../../native/index.js";

/** Longest qualified name handed to clients. */
export const MAX_NAME_LENGTH = 64;
const HASH_CHARS = 8;

/** The prefix a server's items get: the configured one, else `<server>__`. */
export function prefixFor(server: string, configured: string | undefined): string {
  return configured ?? `${server}__`;
}

/** `prefix + name`, shortened to at most 64 characters as `<head>_<8 hex of sha256(full)>`. */
export function qualifyName(prefix: string, name: string): string {
  const full = prefix + name;
  if (full.length <= MAX_NAME_LENGTH) return full;
  const hash = sha256Hex(full).slice(0, HASH_CHARS);
  return `${full.slice(0, MAX_NAME_LENGTH - HASH_CHARS - 1)}_${hash}`;
}
