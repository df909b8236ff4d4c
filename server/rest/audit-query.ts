/**
 * `GET /v1/audit`: reads the audit log's segment files and answers a filtered, paginated query —
 * by time range (`since`, `until`, RFC 3339), principal id, tool (target name), decision, call id
 * and session — oldest first, `limit` records per page (default 100, at most 1,000) with an opaque
 * cursor (`after` = the last seq returned). Lines are streamed from the segments that can hold
 * records past the cursor; a torn tail line (a crash mid-write) is skipped. Integrity is not
 * judged here: that is `GET /v1/audit/verify`.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { z } from "zod";
import type { AuditEnvelope } from "../../gateway/audit/index.js";
import { listSegments } from "../../gateway/audit/index.js";
import { PortcullisError } from "../../gateway/errors.js";
import type { AuditPage } from "./responses.js";

const Rfc3339 = z.iso.datetime({ offset: true });

export const AuditQuery = z.strictObject({
  since: Rfc3339.optional(),
  until: Rfc3339.optional(),
  principal: z.string().min(1).max(256).optional(),
  tool: z.string().min(1).max(512).optional(),
  decision: z.enum(["allow", "deny", "ask_user"]).optional(),
  kind: z.enum(["decision", "outcome", "admin"]).optional(),
  id: z.string().min(1).max(256).optional(),
  session: z.string().min(1).max(256).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

/** Validates query-string parameters; throws GW_ERR_USAGE naming the first bad one. */
export function parseAuditQuery(params: Record<string, string>): AuditQuery {
  const r = AuditQuery.safeParse(params);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new PortcullisError("GW_ERR_USAGE", `audit query '${issue.path.join(".")}': ${issue.message}`);
  }
  return r.data;
}

function matches(rec: AuditEnvelope, q: AuditQuery, since: number, until: number): boolean {
  if (q.principal !== undefined && rec.principal?.id !== q.principal) return false;
  if (q.tool !== undefined && rec.target?.name !== q.tool) return false;
  if (q.decision !== undefined && rec.decision !== q.decision) return false;
  if (q.kind !== undefined && rec.kind !== q.kind) return false;
  if (q.id !== undefined && rec.id !== q.id) return false;
  if (q.session !== undefined && rec.session !== q.session) return false;
  const ts = Date.parse(rec.ts);
  return ts >= since && ts <= until;
}

/** First seq of a segment, read from its first line (undefined when empty or unreadable). */
async function firstSeq(path: string): Promise<number | undefined> {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      const seq = (JSON.parse(line) as { seq?: unknown }).seq;
      return typeof seq === "number" ? seq : undefined;
    }
  } catch {
    return undefined;
  } finally {
    lines.close();
  }
  return undefined;
}

export async function queryAudit(dir: string, q: AuditQuery): Promise<AuditPage> {
  const since = q.since ? Date.parse(q.since) : -Infinity;
  const until = q.until ? Date.parse(q.until) : Infinity;
  const after = q.after ?? 0;
  const segments = listSegments(dir);
  // Skip whole segments that end before the cursor: segment i+1 starts after segment i ends.
  let start = 0;
  for (let i = segments.length - 1; i > 0; i--) {
    const first = await firstSeq(segments[i]!.path);
    if (first !== undefined && first <= after + 1) {
      start = i;
      break;
    }
  }
  const records: AuditEnvelope[] = [];
  let more = false;
  for (const seg of segments.slice(start)) {
    const lines = createInterface({
      input: createReadStream(seg.path, { encoding: "utf8" }),
      crlfDelay: Infinity,
    });
    try {
      for await (const line of lines) {
        if (!line) continue;
        let rec: AuditEnvelope;
        try {
          rec = JSON.parse(line) as AuditEnvelope;
        } catch {
          continue; // a torn tail line; verify reports it
        }
        if (rec.seq <= after || !matches(rec, q, since, until)) continue;
        if (records.length === q.limit) {
          more = true;
          break;
        }
        records.push(rec);
      }
    } finally {
      lines.close();
    }
    if (more) break;
  }
  const last = records.at(-1);
  return { records, ...(more && last ? { next: String(last.seq) } : {}) };
}
