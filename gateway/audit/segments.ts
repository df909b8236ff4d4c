/**
 * Segment files of an audit log: `audit-000001.jsonl`, `audit-000002.jsonl`, … in one folder,
 * numbered from 1 without gaps. Also recovers the tail after a crash: finds the last sealed
 * record and cuts off a torn final line so appends continue the chain.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { PortcullisError } from "../errors.js";
import { checkLine } from "./envelope.js";

const SEGMENT_NAME = /^audit-(\d{6,})\.jsonl$/;

/** File name of segment `index` (1-based). */
export function segmentName(index: number): string {
  return `audit-${String(index).padStart(6, "0")}.jsonl`;
}

export interface SegmentFile {
  index: number;
  name: string;
  path: string;
}

/** The segment files in `dir`, in order. A missing folder has none. */
export function listSegments(dir: string): SegmentFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: SegmentFile[] = [];
  for (const name of names) {
    const m = SEGMENT_NAME.exec(name);
    if (m) out.push({ index: Number(m[1]), name, path: join(dir, name) });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** The last sealed record of a segment, as found by `recoverTail`. */
export interface TailRecord {
  seq: number;
  hash: string;
}

export interface RecoveredTail {
  /** Last record of the segment; undefined when it holds none. */
  last: TailRecord | undefined;
  /** Size after cutting off a torn line. */
  size: number;
  /** Bytes cut off (0 when the segment ended cleanly). */
  truncated: number;
}

function readRange(fd: number, start: number, end: number): Buffer {
  const buf = Buffer.allocUnsafe(end - start);
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, start + off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/**
 * Reads a segment backwards to its last complete line, truncates anything after it (a line torn
 * by a crash was never acknowledged, because acknowledgement waits for the write), and checks
 * that line's seal. A last complete line that fails its seal is not repaired: that is tampering
 * or media damage, and appending after it would hide it.
 */
export function recoverTail(path: string): RecoveredTail {
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return { last: undefined, size: 0, truncated: 0 };
    let window = Math.min(size, 64 * 1024);
    for (;;) {
      const start = size - window;
      const buf = readRange(fd, start, size);
      const lastNl = buf.lastIndexOf(0x0a);
      if (lastNl < 0 && start > 0) {
        window = Math.min(size, window * 4);
        continue;
      }
      const cleanEnd = lastNl < 0 ? 0 : start + lastNl + 1;
      const prevNl = lastNl <= 0 ? -1 : buf.lastIndexOf(0x0a, lastNl - 1);
      // The last complete line must begin inside the window, else widen it.
      if (lastNl >= 0 && prevNl < 0 && start > 0) {
        window = Math.min(size, window * 4);
        continue;
      }
      const truncated = size - cleanEnd;
      if (truncated > 0) ftruncateSync(fd, cleanEnd);
      if (cleanEnd === 0) return { last: undefined, size: 0, truncated };
      const line = buf.subarray(prevNl + 1, lastNl).toString("utf8");
      const check = checkLine(line);
      if (!check.ok) {
        throw new PortcullisError(
          "GW_ERR_AUDIT",
          `audit log ${path}: the last record is invalid (${check.reason}); run 'portcullis audit verify'`,
          { details: { file: path } },
        );
      }
      return { last: { seq: check.record.seq, hash: check.record.hash }, size: cleanEnd, truncated };
    }
  } finally {
    closeSync(fd);
  }
}
