/**
 * The audit record and its seal. A record's `hash` is the sha256 of the RFC 8785 canonical JSON
 * of the record without `hash` (so it covers `prev_hash` and chains to its predecessor). A line
 * on disk is that canonical text with `"hash"` appended as the last member, which keeps sealing
 * to one canonicalisation per record and lets `verify` recompute the hash from the parsed line.
 */
import type { AuditEntry, AuditEnvelope } from "../../contracts/index.js";
import { canonicalize, sha256Hex } from "../../native/index.js";
import { memberText, memberValueText } from "../canonical-fragments.js";

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

/** The contract's members, as a set: an entry with any other member takes the general path. */
const KNOWN_MEMBERS: ReadonlySet<string> = new Set<string>(MEMBER_ORDER);

/**
 * Assigns the chain fields, computes the hash and renders the line. A record with only the
 * contract's members (what the pipeline writes) has its canonical text built member by member in
 * canonical order, each nested value from its interned text when it has one (explicit member reads
 * and writes: a loop over the names would make every access a megamorphic keyed one); any other
 * record is canonicalised whole. Either way that one text is hashed and becomes the line.
 */
export function sealRecord(entry: AuditEntry, seq: number, ts: string, prevHash: string): SealedRecord {
  const source = entry as Record<string, unknown>;
  for (const key in source) {
    const value = source[key];
    if (value === undefined || key === "hash") continue;
    if (!KNOWN_MEMBERS.has(key) || typeof value === "function" || typeof value === "symbol")
      return sealWhole(source, seq, ts, prevHash);
  }
  const e = entry as Partial<AuditEnvelope>;
  const r = {} as Partial<AuditEnvelope>;
  let t = "{";
  if (e.args_digest !== undefined) {
    r.args_digest = e.args_digest;
    t += `${t.length > 1 ? "," : ""}"args_digest":${memberValueText(e.args_digest)}`;
  }
  if (e.args_redacted !== undefined) {
    r.args_redacted = e.args_redacted;
    t += `${t.length > 1 ? "," : ""}"args_redacted":${memberValueText(e.args_redacted)}`;
  }
  if (e.context_hash !== undefined) {
    r.context_hash = e.context_hash;
    t += `${t.length > 1 ? "," : ""}"context_hash":${memberValueText(e.context_hash)}`;
  }
  if (e.decision !== undefined) {
    r.decision = e.decision;
    t += `${t.length > 1 ? "," : ""}"decision":${memberValueText(e.decision)}`;
  }
  if (e.id !== undefined) {
    r.id = e.id;
    t += `${t.length > 1 ? "," : ""}"id":${memberValueText(e.id)}`;
  }
  if (e.kind !== undefined) {
    r.kind = e.kind;
    t += `${t.length > 1 ? "," : ""}"kind":${memberValueText(e.kind)}`;
  }
  if (e.outcome !== undefined) {
    r.outcome = e.outcome;
    t += `${t.length > 1 ? "," : ""}"outcome":${memberValueText(e.outcome)}`;
  }
  if (e.policy_hash !== undefined) {
    r.policy_hash = e.policy_hash;
    t += `${t.length > 1 ? "," : ""}"policy_hash":${memberValueText(e.policy_hash)}`;
  }
  if (e.policy_revision !== undefined) {
    r.policy_revision = e.policy_revision;
    t += `${t.length > 1 ? "," : ""}"policy_revision":${memberValueText(e.policy_revision)}`;
  }
  r.prev_hash = prevHash;
  t += `${t.length > 1 ? "," : ""}"prev_hash":${JSON.stringify(prevHash)}`;
  // prev_hash is always there: every member after it follows another.
  if (e.principal !== undefined) {
    r.principal = e.principal;
    t += `,"principal":${memberValueText(e.principal)}`;
  }
  if (e.reasons !== undefined) {
    r.reasons = e.reasons;
    t += `,"reasons":${memberValueText(e.reasons)}`;
  }
  r.seq = seq;
  t += `,"seq":${seq}`;
  if (e.session !== undefined) {
    r.session = e.session;
    t += `,"session":${memberValueText(e.session)}`;
  }
  if (e.target !== undefined) {
    r.target = e.target;
    t += `,"target":${memberValueText(e.target)}`;
  }
  if (e.timings !== undefined) {
    r.timings = e.timings;
    t += `,"timings":${memberValueText(e.timings)}`;
  }
  r.ts = ts;
  t += `,"ts":${JSON.stringify(ts)}`;
  r.v = 1;
  t += ',"v":1';
  const hash = sha256Hex(`${t}}`);
  r.hash = hash;
  return { envelope: r as AuditEnvelope, line: `${t},"hash":"${hash}"}` };
}

/** `sealRecord` for an entry with members outside the contract (an untyped caller): all sealed. */
function sealWhole(source: Record<string, unknown>, seq: number, ts: string, prevHash: string): SealedRecord {
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
  // After the known members, so canonicalize sorts that record; a stray `hash` would otherwise be
  // sealed into the content.
  for (const key in source) {
    if (key !== "hash" && !Object.hasOwn(record, key) && source[key] !== undefined) record[key] = source[key];
  }
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
