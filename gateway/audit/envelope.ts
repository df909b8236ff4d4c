/**
 * The audit record and its seal. A record's `hash` is the sha256 of the RFC 8785 canonical JSON
 * of the record without `hash` (so it covers `prev_hash` and chains to its predecessor). A line
 * on disk is that canonical text with `"hash"` appended as the last member, which keeps sealing
 * to one canonicalisation per record and lets `verify` recompute the hash from the parsed line.
 */
import type { AuditEntry, AuditEnvelope } from "../../contracts/index.js";
import { canonicalize, sha256Hex } from "../../native/index.js";
import { memberText } from "../canonical-fragments.js";

/** prev_hash of the first record of a log. */
export const GENESIS_HASH = "0".repeat(64);

export type { AuditEntry, AuditEnvelope };

/** The kinds of audit record: a policy decision, the outcome of an executed call, an admin action. */
export type AuditKind = AuditEnvelope["kind"];

/** A sealed record: the envelope and its line (without the trailing newline). */
export interface SealedRecord {
  envelope: AuditEnvelope;
  line: string;
}

/** The envelope's members in RFC 8785 order (UTF-16 code units), chain fields included. */
const MEMBER_ORDER = [
  "args_digest",
  "args_redacted",
  "context_hash",
  "decision",
  "id",
  "kind",
  "outcome",
  "policy_hash",
  "policy_revision",
  "prev_hash",
  "principal",
  "reasons",
  "seq",
  "session",
  "target",
  "timings",
  "ts",
  "v",
] as const;

/**
 * Assigns the chain fields, computes the hash and renders the line. The record is built with its
 * members in canonical order, so when its nested values are too (the pipeline builds them so) the
 * canonical text is a single JSON.stringify; that one text is hashed and becomes the line.
 */
export function sealRecord(entry: AuditEntry, seq: number, ts: string, prevHash: string): SealedRecord {
  const source = entry as Record<string, unknown>;
  const record: Record<string, unknown> = {};
  for (const key of MEMBER_ORDER) {
    const value =
      key === "seq"
        ? seq
        : key === "ts"
          ? ts
          : key === "prev_hash"
            ? prevHash
            : key === "v"
              ? 1
              : source[key];
    if (value !== undefined) record[key] = value;
  }
  // Members outside the contract from an untyped caller are sealed too (after the known ones, so
  // canonicalize sorts that record); a stray `hash` would otherwise be sealed into the content.
  for (const key in source) {
    if (key !== "hash" && !Object.hasOwn(record, key) && source[key] !== undefined) record[key] = source[key];
  }
  // Members the pipeline interned (principal, target, reasons) keep the text they already have.
  const canonical = memberText(record);
  const hash = sha256Hex(canonical);
  record["hash"] = hash;
  return { envelope: record as AuditEnvelope, line: `${canonical.slice(0, -1)},"hash":"${hash}"}` };
}

/** Result of checking one line in isolation (its own seal, not its place in the chain). */
export type LineCheck =
  | { ok: true; record: { seq: number; prev_hash: string; hash: string } & Record<string, unknown> }
  | { ok: false; kind: "malformed" | "hash_mismatch"; reason: string; seq?: number };

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses a line and recomputes its hash. */
export function checkLine(line: string): LineCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    return { ok: false, kind: "malformed", reason: `not JSON: ${(e as Error).message}` };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { ok: false, kind: "malformed", reason: "not a JSON object" };
  }
  const record = parsed as Record<string, unknown>;
  const seq = record["seq"];
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) {
    return { ok: false, kind: "malformed", reason: "missing or invalid 'seq'" };
  }
  const hash = record["hash"];
  if (typeof hash !== "string" || !HEX64.test(hash)) {
    return { ok: false, kind: "malformed", reason: "missing or invalid 'hash'", seq };
  }
  if (typeof record["prev_hash"] !== "string" || !HEX64.test(record["prev_hash"])) {
    return { ok: false, kind: "malformed", reason: "missing or invalid 'prev_hash'", seq };
  }
  let actual: string;
  try {
    // The parsed object is ours: drop `hash` in place (cheap for the last member, where it is).
    delete record["hash"];
    actual = sha256Hex(canonicalize(record));
    record["hash"] = hash;
  } catch (e) {
    return { ok: false, kind: "malformed", reason: `cannot canonicalise: ${(e as Error).message}`, seq };
  }
  if (actual !== hash) {
    return {
      ok: false,
      kind: "hash_mismatch",
      reason: "content does not match its hash (record edited)",
      seq,
    };
  }
  return { ok: true, record: record as { seq: number; prev_hash: string; hash: string } };
}
