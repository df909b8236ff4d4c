/**
 * Building blocks shared by the four frozen contracts: the version literal, identifiers, hashes,
 * timestamps, principals and reasons. Every constraint here is chosen so the Rust serde mirror in
 * `native/core/src/contracts/` can enforce exactly the same thing: regexes use ASCII classes only
 * (`[0-9]`, never `\d`), integers are safe integers (|n| ≤ 2^53 − 1), lengths are counted in UTF-16
 * code units, and `documentChecks` adds the whole-document rules JSON.parse alone does not give.
 */
import { z } from "zod";

/** Every contract document carries `"v": 1`; fields are only ever added, never renamed. */
export const V1 = z.literal(1).describe("Contract version; always 1");

/** Deepest nesting of arrays/objects a document may have (the document itself is depth 1). */
export const MAX_DOCUMENT_DEPTH = 64;

/** A non-empty string of at most `max` UTF-16 code units. */
export const nonEmpty = (max = 1024) => z.string().min(1).max(max);

/** Opaque identifier (request id, session id, principal id…). */
export const Id = nonEmpty(256).describe("Opaque non-empty identifier");

/** Qualified tool name, e.g. `workspace__read` (the MCP tool-name alphabet). */
export const ToolName = z
  .string()
  .regex(/^[A-Za-z0-9_./-]{1,128}$/, "a tool name of 1-128 characters from A-Z a-z 0-9 _ . / -")
  .describe("Qualified tool name, e.g. workspace__read");

/** Lower-case SHA-256 hex digest (64 characters); a chain's genesis prev_hash is 64 zeros. */
export const Sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "a lower-case SHA-256 hex digest")
  .describe("Lower-case SHA-256 hex digest");

/**
 * RFC 3339 date-time with upper-case `T`/`Z` and an explicit offset, e.g. `2026-01-31T12:00:00.123Z`.
 * Field ranges are checked by the pattern (day 31 is accepted for every month).
 */
export const Timestamp = z
  .string()
  .regex(
    /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$/,
    "an RFC 3339 date-time such as 2026-01-31T12:00:00Z",
  )
  .describe("RFC 3339 date-time");

/** UPPER_SNAKE reason code; the registry is contracts/reason-codes.json. */
export const ReasonCodeString = z
  .string()
  .regex(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, "an UPPER_SNAKE reason code")
  .max(64)
  .describe("UPPER_SNAKE reason code registered in contracts/reason-codes.json");

/** Data class found by the sanitizer, e.g. `secret`, `pii`, `email`, `payment_card`. */
export const DataClass = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, "a lower_snake data class such as payment_card")
  .describe("Data class, e.g. secret, pii, email, payment_card");

/** Provider identifier used by model routing. */
export const ProviderId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "a provider id of lower-case letters, digits, _ and -")
  .describe("Model provider id");

/** A safe integer in [min, max]. */
export const intIn = (min: number, max: number) => z.number().int().min(min).max(max);

/** A finite duration in milliseconds (fractions allowed). */
export const Millis = z.number().min(0).max(86_400_000).describe("Milliseconds");

/** A JSON object with arbitrary members (tool arguments, structured content, event data). */
export const JsonObject = z.record(z.string(), z.unknown());

export const PrincipalVia = z.enum(["stdio", "api_key", "jwt", "anonymous"]);

/** Who is calling, as established by the authenticate stage. */
export const Principal = z
  .strictObject({
    id: Id,
    roles: z.array(nonEmpty(128)),
    authenticated: z.boolean(),
    via: PrincipalVia,
  })
  .describe("The caller as established by authentication");

/** One reason attached to a decision or result. */
export const Reason = z.strictObject({
  code: ReasonCodeString,
  message: z.string().max(4096),
});

/**
 * Whole-document rules checked after the shape: every string is well-formed UTF-16 (no lone
 * surrogates, which serde_json refuses), every number is finite (JSON.parse turns 1e400 into
 * Infinity, serde_json refuses it) and nesting stays within MAX_DOCUMENT_DEPTH.
 */
export function documentChecks(value: unknown, ctx: z.core.$RefinementCtx<unknown>): void {
  const problem = findProblem(value, 1);
  if (problem) {
    ctx.addIssue({ code: "custom", message: problem.message, path: problem.path.reverse(), input: value });
  }
}

/** `String.prototype.isWellFormed` (Node ≥ 20; the ES2023 lib typings lack it). */
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** A problem with its path collected leaf-first while unwinding (no allocation on the happy path). */
type Problem = { message: string; path: (string | number)[] };

function findProblem(value: unknown, depth: number): Problem | undefined {
  if (typeof value === "string") {
    return isWellFormed(value) ? undefined : { message: "string contains a lone surrogate", path: [] };
  }
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : { message: "number is not finite", path: [] };
  }
  if (value === null || typeof value !== "object") return undefined;
  if (depth > MAX_DOCUMENT_DEPTH) {
    return { message: `nesting deeper than ${MAX_DOCUMENT_DEPTH} levels`, path: [] };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findProblem(value[i], depth + 1);
      if (p) {
        p.path.push(i);
        return p;
      }
    }
    return undefined;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (!isWellFormed(key)) return { message: "member name contains a lone surrogate", path: [] };
    const p = findProblem((value as Record<string, unknown>)[key], depth + 1);
    if (p) {
      p.path.push(key);
      return p;
    }
  }
  return undefined;
}
