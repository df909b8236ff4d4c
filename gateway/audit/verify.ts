/**
 * Verifies an audit log folder end to end: every segment present and numbered without gaps,
 * every record's seal, seq consecutive from 1 across segments, and every prev_hash equal to the
 * hash of the record before it. The first failure is named by file, line, seq and a reason that
 * says what was most likely done to the log (edited, deleted, inserted, reordered).
 */
import { readFile } from "node:fs/promises";
import { checkLine, GENESIS_HASH } from "./envelope.js";
import { listSegments, type SegmentFile, segmentName } from "./segments.js";

export type TamperKind =
  | "malformed"
  | "hash_mismatch"
  | "deleted"
  | "inserted"
  | "reordered"
  | "chain_break"
  | "missing_segment"
  | "truncated"
  | "rewritten";

export interface BadRecord {
  /** seq of the bad record; for a deletion, the seq that is missing. */
  seq: number;
  /** Segment file name (relative to the folder). */
  file: string;
  /** 1-based line in that file. */
  line: number;
  kind: TamperKind;
  reason: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Records that verified before the first failure (all of them when ok). */
  records: number;
  segments: number;
  /** seq and hash of the last verified record; record them elsewhere to detect truncation later. */
  head: { seq: number; hash: string };
  firstBad?: BadRecord;
  /** An unterminated final line of the last segment: a write torn by a crash, never acknowledged. */
  tornTail?: { file: string; line: number; bytes: number };
}

interface Located {
  seq: number;
  hash: string;
  file: string;
  line: number;
}

/** seq of a line without checking its seal (for look-ahead); undefined when unreadable. */
function peekSeq(line: string): number | undefined {
  try {
    const v = (JSON.parse(line) as { seq?: unknown }).seq;
    return typeof v === "number" ? v : undefined;
  } catch {
    return undefined;
  }
}

function splitLines(text: string): { lines: string[]; torn: string | undefined } {
  const lines = text.split("\n");
  const last = lines.pop() ?? "";
  return { lines, torn: last === "" ? undefined : last };
}

/** A head recorded earlier (from `verify` or `AuditLog.head`), kept where the log's host cannot edit it. */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

/**
 * Verifies the log in `dir`; never throws for a damaged log, only for an unreadable folder. With
 * an `anchor`, also proves the log still contains that record unchanged, which exposes records
 * cut from the end and a re-sealed rewrite that the chain alone cannot show.
 */
export async function verifyAudit(
  dir: string,
  opts: { anchor?: AuditAnchor } = {},
): Promise<AuditVerification> {
  const anchor = opts.anchor;
  let anchored: Located | undefined;
  let tornTail: AuditVerification["tornTail"];
  const segments = listSegments(dir);
  let records = 0;
  let expectedSeq = 1;
  let prev: Located | undefined;
  let beforePrev: Located | undefined;
  const result = (firstBad?: BadRecord, tornTail?: AuditVerification["tornTail"]): AuditVerification => ({
    ok: !firstBad,
    records,
    segments: segments.length,
    head: prev ? { seq: prev.seq, hash: prev.hash } : { seq: 0, hash: GENESIS_HASH },
    ...(firstBad ? { firstBad } : {}),
    ...(tornTail ? { tornTail } : {}),
  });

  let expectedIndex = 1;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s] as SegmentFile;
    if (seg.index !== expectedIndex) {
      return result({
        seq: expectedSeq,
        file: segmentName(expectedIndex),
        line: 1,
        kind: "missing_segment",
        reason: `segment ${segmentName(expectedIndex)} is missing (next present: ${seg.name})`,
      });
    }
    expectedIndex += 1;
    const { lines, torn } = splitLines(await readFile(seg.path, "utf8"));
    const isLast = s === segments.length - 1;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      const where = { file: seg.name, line: i + 1 };
      const check = checkLine(line);
      if (!check.ok) {
        return result({ ...where, seq: check.seq ?? expectedSeq, kind: check.kind, reason: check.reason });
      }
      const rec = check.record;
      const here: Located = { seq: rec.seq, hash: rec.hash, ...where };
      if (anchor && rec.seq === anchor.seq) anchored = here;
      if (rec.seq > expectedSeq) {
        const laterLines = lines.slice(i + 1);
        const movedDown = laterLines.some((l) => peekSeq(l) === expectedSeq);
        return result(
          movedDown
            ? {
                ...where,
                seq: rec.seq,
                kind: "reordered",
                reason: `seq ${rec.seq} appears before seq ${expectedSeq} (records reordered)`,
              }
            : {
                ...where,
                seq: expectedSeq,
                kind: "deleted",
                reason:
                  rec.seq === expectedSeq + 1
                    ? `seq ${expectedSeq} is missing before this line, which holds seq ${rec.seq} (record deleted)`
                    : `seq ${expectedSeq}..${rec.seq - 1} are missing before this line, which holds seq ${rec.seq} (records deleted)`,
              },
        );
      }
      if (rec.seq < expectedSeq) {
        // The record this one chains to tells which of the two is the intruder: an exact copy of
        // its predecessor is itself inserted; otherwise a record chaining past its predecessor
        // exposes that predecessor as the insertion.
        if (prev && rec.hash === prev.hash) {
          return result({
            ...where,
            seq: rec.seq,
            kind: "inserted",
            reason: `duplicate of seq ${prev.seq} at ${prev.file}:${prev.line} (record inserted)`,
          });
        }
        if (prev && beforePrev && rec.seq === prev.seq && rec.prev_hash === beforePrev.hash) {
          const intruder = prev;
          prev = beforePrev;
          records -= 1;
          return result({
            file: intruder.file,
            line: intruder.line,
            seq: intruder.seq,
            kind: "inserted",
            reason: `a second record with seq ${intruder.seq} follows it and chains past it (record inserted)`,
          });
        }
        return result({
          ...where,
          seq: rec.seq,
          kind: rec.seq === (prev?.seq ?? 0) || rec.seq < expectedSeq - 1 ? "inserted" : "reordered",
          reason: `seq ${rec.seq} repeats or goes back after seq ${expectedSeq - 1} (record inserted or moved)`,
        });
      }
      const wantPrev = prev ? prev.hash : GENESIS_HASH;
      if (rec.prev_hash !== wantPrev) {
        return result({
          ...where,
          seq: rec.seq,
          kind: "chain_break",
          reason: prev
            ? `prev_hash does not match the hash of seq ${prev.seq} (${prev.file}:${prev.line}): that record was replaced, or this one forged`
            : "prev_hash of the first record is not the genesis hash (log does not start here)",
        });
      }
      beforePrev = prev;
      prev = here;
      expectedSeq += 1;
      records += 1;
    }
    if (torn !== undefined) {
      const where = { file: seg.name, line: lines.length + 1 };
      if (!isLast) {
        return result({
          ...where,
          seq: expectedSeq,
          kind: "malformed",
          reason: "segment ends in an unterminated line but is not the last segment",
        });
      }
      tornTail = { ...where, bytes: Buffer.byteLength(torn) };
    }
  }
  if (anchor && anchor.seq > 0) {
    const last = segments[segments.length - 1];
    if (!anchored) {
      return result(
        {
          seq: anchor.seq,
          file: last?.name ?? segmentName(1),
          line: (prev?.file === last?.name ? (prev?.line ?? 0) : 0) + 1,
          kind: "truncated",
          reason: `the log ends at seq ${prev?.seq ?? 0} but seq ${anchor.seq} was recorded earlier (records removed from the end)`,
        },
        tornTail,
      );
    }
    if (anchored.hash !== anchor.hash) {
      return result(
        {
          seq: anchored.seq,
          file: anchored.file,
          line: anchored.line,
          kind: "rewritten",
          reason: `seq ${anchored.seq} has hash ${anchored.hash}, but ${anchor.hash} was recorded earlier (log rewritten up to here)`,
        },
        tornTail,
      );
    }
  }
  return result(undefined, tornTail);
}
