/**
 * `portcullis audit verify|tail`: checks an audit folder's hash chain (exit 1 naming the first
 * bad record) and prints the newest records, optionally following new ones across rotations.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Command } from "../../cli.js";
import { loadConfig } from "../config/load.js";
import { PortcullisError, UsageError } from "../errors.js";
import { listSegments } from "./segments.js";
import { type AuditAnchor, verifyAudit } from "./verify.js";

const USAGE = `Usage:
  portcullis audit verify [--dir D] [--config FILE] [--anchor SEQ:HASH] [--json]
  portcullis audit tail [-n N] [-f] [--dir D] [--config FILE]

  --dir D        audit folder (default: audit.dir of the config, else .portcullis/audit)
  --config FILE  portcullis.json or portcullis.yaml to take audit.dir from
  --anchor S:H    a head printed by an earlier verify: also prove that record is still there, unchanged
  --json         print the verification result as JSON
  -n N           number of records to print (default 10)
  -f             keep printing records as they are appended, until interrupted`;

function auditDir(dir: string | undefined, config: string | undefined): string {
  if (dir) return resolve(dir);
  const loaded = loadConfig(config);
  return resolve(loaded.baseDir, loaded.config.audit.dir);
}

function parseAnchor(text: string): AuditAnchor {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(text);
  if (!m) throw new UsageError(`--anchor needs SEQ:HASH (a seq and a 64-character hex hash), got '${text}'`);
  return { seq: Number(m[1]), hash: m[2]! };
}

async function verify(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: "string" },
      config: { type: "string", short: "c" },
      anchor: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const dir = auditDir(values.dir, values.config);
  if (!existsSync(dir)) throw new PortcullisError("GW_ERR_NOT_FOUND", `no audit log at ${dir}`);
  const r = await verifyAudit(dir, values.anchor ? { anchor: parseAnchor(values.anchor) } : {});
  if (values.json) {
    console.log(JSON.stringify({ dir, ...r }, null, 2));
    return r.ok ? 0 : 1;
  }
  if (!r.ok && r.firstBad) {
    const b = r.firstBad;
    console.error(
      `audit log ${dir}: FAILED at ${b.file}:${b.line} (seq ${b.seq}, ${b.kind}): ${b.reason}\n` +
        `  ${r.records} record(s) verified before it`,
    );
    return 1;
  }
  console.log(
    `audit log ${dir}: OK — ${r.records} record(s) in ${r.segments} segment(s); head ${r.head.seq}:${r.head.hash}`,
  );
  if (r.tornTail) {
    console.log(
      `  note: ${r.tornTail.file}:${r.tornTail.line} is an unterminated line (${r.tornTail.bytes} bytes) left by a crash; it was never acknowledged and is cut off when the log is next opened`,
    );
  }
  return 0;
}

/** The last `n` complete lines of one file, oldest first, reading backwards from its end. */
function lastLinesOf(path: string, n: number): string[] {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    for (let window = 64 * 1024; ; window *= 4) {
      const start = Math.max(0, size - window);
      const buf = Buffer.alloc(size - start);
      const read = readSync(fd, buf, 0, buf.length, start);
      const lines = buf.subarray(0, read).toString("utf8").split("\n");
      lines.pop(); // the unterminated remainder (normally empty)
      if (start > 0) lines.shift(); // may begin mid-line
      if (lines.length >= n || start === 0) return lines.slice(Math.max(0, lines.length - n));
    }
  } finally {
    closeSync(fd);
  }
}

/** The last `n` complete lines across segments, oldest first. */
function lastLines(dir: string, n: number): string[] {
  const out: string[] = [];
  const segments = listSegments(dir);
  for (let s = segments.length - 1; s >= 0 && out.length < n; s--) {
    out.unshift(...lastLinesOf(segments[s]!.path, n - out.length));
  }
  return out;
}

/** Prints complete lines appended after the current end, across rotations, until `signal` aborts. */
export async function followAudit(
  dir: string,
  print: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const segments = listSegments(dir);
  let index = segments[segments.length - 1]?.index ?? 1;
  let path = segments[segments.length - 1]?.path;
  let offset = path ? statSync(path).size : 0;
  let partial = "";
  const poll = (): void => {
    const current = listSegments(dir);
    for (;;) {
      const seg = current.find((c) => c.index === index);
      if (seg) {
        path = seg.path;
        const size = statSync(path).size;
        if (size > offset) {
          const fd = openSync(path, "r");
          try {
            const buf = Buffer.alloc(size - offset);
            const read = readSync(fd, buf, 0, buf.length, offset);
            offset += read;
            const lines = (partial + buf.subarray(0, read).toString("utf8")).split("\n");
            partial = lines.pop()!;
            for (const l of lines) print(l);
          } finally {
            closeSync(fd);
          }
        }
      }
      if (!current.some((c) => c.index === index + 1)) return;
      index += 1;
      offset = 0;
      partial = "";
    }
  };
  if (signal.aborted) return;
  await new Promise<void>((done) => {
    const timer = setInterval(poll, 200);
    signal.addEventListener(
      "abort",
      () => {
        clearInterval(timer);
        poll();
        done();
      },
      { once: true },
    );
  });
}

async function tail(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: "string" },
      config: { type: "string", short: "c" },
      n: { type: "string", short: "n" },
      follow: { type: "boolean", short: "f" },
    },
  });
  const n = values.n === undefined ? 10 : Number(values.n);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`-n needs a non-negative integer, got '${values.n}'`);
  const dir = auditDir(values.dir, values.config);
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  for (const line of lastLines(dir, n)) print(line);
  if (values.follow) {
    const stop = new AbortController();
    const abort = (): void => stop.abort();
    process.once("SIGINT", abort);
    process.once("SIGTERM", abort);
    try {
      await followAudit(dir, print, stop.signal);
    } finally {
      process.off("SIGINT", abort);
      process.off("SIGTERM", abort);
    }
  }
  return 0;
}

export const auditCommand: Command = {
  summary: "Verify the audit log's hash chain or print its newest records",
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === "verify") return verify(rest);
    if (sub === "tail") return tail(rest);
    throw new UsageError(`expected 'verify' or 'tail', got ${sub ? `'${sub}'` : "nothing"}\n\n${USAGE}`);
  },
};
