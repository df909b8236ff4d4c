/**
 * The append side of the audit log. Appends are sealed synchronously (so chain order is call
 * order), written with one `write` per microtask batch, and made durable by group commit: at most
 * one `fdatasync` is in flight and every record written while it runs joins the next one.
 * `append` resolves after the fsync that covers the record; `appendDecision` resolves at the
 * point the configured sync mode promises before a call executes (see README.md).
 */

import diagnosticsChannel from "node:diagnostics_channel";
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { type Clock, isoNow, systemClock } from "../clock.js";
import { PortcullisError } from "../errors.js";
import { type AuditEntry, type AuditEnvelope, GENESIS_HASH, sealRecord } from "./envelope.js";
import { listSegments, recoverTail, segmentName } from "./segments.js";

export type AuditSyncMode = "group" | "always";

/**
 * The default group commit window, ms: how long an fsync nobody awaits waits for more records.
 * Each fdatasync costs the machine far more than its records' writes (journal commit, a device
 * cache flush, a thread-pool round trip): at 1,000 sequential calls/s a 5 ms window meant ~200 of
 * them a second, and measured about 65–100 µs of gateway CPU per call (bench/mcp.bench.ts, 2-vCPU
 * VM), which slowed the very calls it followed. 50 ms keeps the power-loss window of `sync:
 * "group"` short (Redis' `appendfsync everysec` allows 1 s, MongoDB's journal 100 ms); a crash
 * of the process loses nothing either way, and `sync: "always"` is unaffected.
 */
export const DEFAULT_GROUP_COMMIT_MS = 50;

export interface AuditLogOptions {
  dir: string;
  /** "group": fsync batched behind execution; "always": fsync before execution. Default "group". */
  sync?: AuditSyncMode;
  /** A segment is closed and the next begun once a record would take it past this size. */
  segmentBytes?: number;
  /**
   * How long an fsync nobody awaits may wait for more records to join it (default
   * `DEFAULT_GROUP_COMMIT_MS`, 0 = at once). Records
   * someone awaits durability for (`append`, `sync: "always"`, `flush`) are synced at once.
   */
  groupCommitMs?: number;
  clock?: Clock;
}

interface Waiter {
  envelope: AuditEnvelope;
  resolve(envelope: AuditEnvelope): void;
  reject(error: Error): void;
}

interface Queued {
  line: string;
  written?: Waiter;
  durable?: Waiter;
}

const LOCK_FILE = ".lock";

/**
 * diagnostics_channel `portcullis:audit`: `{dir, envelope}` for each record once written, and
 * `{dir, error}` when the log fails. Costs nothing while nobody subscribes.
 */
export const auditChannel = diagnosticsChannel.channel("portcullis:audit");
const openDirs = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the folder's lock file (created exclusively); a lock left by a dead process is taken over. */
function acquireLock(dir: string): void {
  if (openDirs.has(dir)) {
    throw new PortcullisError("GW_ERR_AUDIT", `audit log ${dir} is already open in this process`);
  }
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(path, "utf8").trim());
    } catch {
      // removed meanwhile: try again
    }
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && pidAlive(holder)) {
      throw new PortcullisError("GW_ERR_AUDIT", `audit log ${dir} is in use by process ${holder}`);
    }
    try {
      unlinkSync(path);
    } catch {
      // another opener took it over first; the exclusive create below decides
    }
  }
  openDirs.add(dir);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** An open, appendable audit log. Obtain with `AuditLog.open`. */
export class AuditLog {
  readonly dir: string;
  readonly sync: AuditSyncMode;
  readonly segmentBytes: number;
  private readonly clock: Clock;
  private seq: number;
  private prevHash: string;
  private segment: number;
  private fd: number;
  private size: number;
  private queue: Queued[] = [];
  private writeScheduled = false;
  private awaitingSync: Waiter[] = [];
  private syncInFlight: Promise<void> | undefined;
  /** A deferred fsync of records nobody awaits yet (group commit window). */
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly groupCommitMs: number;
  /** Segments rotated away while an fsync on them may still run; closed when it completes. */
  private retired: number[] = [];
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  /** seq of the last record handed to the OS, and of the last one an fsync has covered. */
  private writtenSeq: number;
  private syncedSeq: number;

  private constructor(
    opts: Required<AuditLogOptions>,
    state: { seq: number; prevHash: string; segment: number; size: number },
  ) {
    this.dir = opts.dir;
    this.sync = opts.sync;
    this.segmentBytes = opts.segmentBytes;
    this.groupCommitMs = opts.groupCommitMs;
    this.clock = opts.clock;
    this.seq = state.seq;
    this.prevHash = state.prevHash;
    this.writtenSeq = state.seq;
    this.syncedSeq = state.seq;
    this.segment = state.segment;
    this.size = state.size;
    this.fd = openSync(join(this.dir, segmentName(this.segment)), "a");
    if (state.size === 0) fsyncDir(this.dir);
  }

  /**
   * Opens (creating if needed) the log in `opts.dir`, recovering the tail left by a crash: a torn
   * final line is cut off and appends continue the chain from the last sealed record.
   */
  static open(opts: AuditLogOptions): AuditLog {
    const dir = resolve(opts.dir);
    const segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) {
      throw new PortcullisError(
        "GW_ERR_AUDIT",
        `segmentBytes must be a positive integer, got ${segmentBytes}`,
      );
    }
    const groupCommitMs = opts.groupCommitMs ?? DEFAULT_GROUP_COMMIT_MS;
    if (!Number.isFinite(groupCommitMs) || groupCommitMs < 0 || groupCommitMs > 60_000) {
      throw new PortcullisError("GW_ERR_AUDIT", `groupCommitMs must be 0..60000, got ${groupCommitMs}`);
    }
    const sync = opts.sync ?? "group";
    if (sync !== "group" && sync !== "always") {
      throw new PortcullisError("GW_ERR_AUDIT", `sync must be 'group' or 'always', got '${String(sync)}'`);
    }
    mkdirSync(dir, { recursive: true });
    acquireLock(dir);
    try {
      let chain = { seq: 0, prevHash: GENESIS_HASH };
      const segments = listSegments(dir);
      let size = 0;
      for (let i = segments.length - 1; i >= 0; i--) {
        const tail = recoverTail(segments[i]!.path);
        if (i === segments.length - 1) size = tail.size;
        if (tail.last) {
          chain = { seq: tail.last.seq, prevHash: tail.last.hash };
          break;
        }
      }
      const segment = segments[segments.length - 1]?.index ?? 1;
      return new AuditLog(
        { dir, sync, segmentBytes, groupCommitMs, clock: opts.clock ?? systemClock },
        { ...chain, segment, size },
      );
    } catch (e) {
      openDirs.delete(dir);
      throw e;
    }
  }

  /** seq and hash of the last appended record (seq 0 and the genesis hash for an empty log). */
  get head(): { seq: number; hash: string } {
    return { seq: this.seq, hash: this.prevHash };
  }

  /** seq of the newest record an fsync has covered (records up to it survive a power loss). */
  get durableSeq(): number {
    return this.syncedSeq;
  }

  /** Appends a record; resolves once the fsync covering it has completed (both modes). */
  append(entry: AuditEntry): Promise<AuditEnvelope> {
    return new Promise((resolve, reject) => this.enqueue(entry, "durable", resolve, reject));
  }

  /**
   * Appends a record; resolves once `write` handed it to the OS (it survives a crash of this
   * process, and the group fsync follows). Use for records nothing waits on for power-loss safety.
   */
  appendWritten(entry: AuditEntry): Promise<AuditEnvelope> {
    return new Promise((resolve, reject) => this.enqueue(entry, "written", resolve, reject));
  }

  /**
   * The pipeline's pre-execution append: with `sync: "group"` it resolves once written (a crash
   * of the gateway loses nothing that executed), with `sync: "always"` once fsync'd (a power loss
   * loses nothing that executed).
   */
  appendDecision(entry: AuditEntry): Promise<AuditEnvelope> {
    return this.sync === "always" ? this.append(entry) : this.appendWritten(entry);
  }

  /**
   * `appendWritten` without a promise: the record is sealed and written, after any record queued
   * before it, by the time this returns. Throws what `appendWritten` would reject with (a closed or
   * failed log, an entry that is not JSON-compatible, a failing write). Records queued in the same
   * turn go out in the same write.
   */
  appendWrittenNow(entry: AuditEntry): AuditEnvelope {
    let envelope: AuditEnvelope | undefined;
    let error: Error | undefined;
    this.enqueue(
      entry,
      "written",
      (e) => {
        envelope = e;
      },
      (e) => {
        error = e;
      },
      true,
    );
    if (!error) this.writeBatch();
    if (error) throw error;
    return envelope!;
  }

  /**
   * `appendDecision` without a promise where the sync mode allows one: with `sync: "group"` the
   * record is written as `appendWrittenNow` does and true is returned; with `sync: "always"`
   * nothing is appended and false is returned, and the caller awaits `appendDecision`.
   */
  appendDecisionNow(entry: AuditEntry): boolean {
    if (this.sync === "always") return false;
    this.appendWrittenNow(entry);
    return true;
  }

  /** Resolves when every record appended so far is durable. */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    const idle = this.queue.length === 0 && this.awaitingSync.length === 0 && !this.syncInFlight;
    if (idle && this.writtenSeq === this.syncedSeq) return;
    await new Promise<void>((resolve, reject) => {
      // A marker with no record: it resolves with the first fsync started after everything queued.
      const sentinel: Waiter = {
        envelope: undefined as unknown as AuditEnvelope,
        resolve: () => resolve(),
        reject,
      };
      if (this.queue.length > 0) this.queue.push({ line: "", durable: sentinel });
      else {
        this.awaitingSync.push(sentinel);
        this.requestSync();
      }
    });
  }

  /** Makes everything durable, then closes the segment and releases the folder. */
  async close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    try {
      if (!this.failure) await this.flush();
      while (this.syncInFlight) await this.syncInFlight;
    } finally {
      for (const fd of [...this.retired, this.fd]) {
        try {
          closeSync(fd);
        } catch {
          // already closed after a failure; nothing left to release
        }
      }
      this.retired = [];
      try {
        unlinkSync(join(this.dir, LOCK_FILE));
      } catch {
        // the lock may have been removed by hand; the folder is released either way
      }
      openDirs.delete(this.dir);
    }
  }

  /**
   * Seals the entry into the queue. The batch is written in a microtask, unless `writeNow`: the
   * caller writes it at once (`appendWrittenNow`), and no microtask is scheduled for it.
   */
  private enqueue(
    entry: AuditEntry,
    until: "written" | "durable",
    resolve: (envelope: AuditEnvelope) => void,
    reject: (error: Error) => void,
    writeNow = false,
  ): void {
    if (this.closing) {
      // After close() starts nothing new may be queued: its fd is about to be released.
      reject(new PortcullisError("GW_ERR_AUDIT", `audit log ${this.dir} is closed`));
      return;
    }
    if (this.failure) {
      reject(this.failure);
      return;
    }
    let sealed: ReturnType<typeof sealRecord>;
    try {
      sealed = sealRecord(entry, this.seq + 1, isoNow(this.clock), this.prevHash);
    } catch (e) {
      reject(
        new PortcullisError("GW_ERR_AUDIT", `audit entry is not JSON-compatible: ${(e as Error).message}`),
      );
      return;
    }
    this.seq += 1;
    this.prevHash = sealed.envelope.hash;
    const waiter: Waiter = { envelope: sealed.envelope, resolve, reject };
    this.queue.push(
      until === "written" ? { line: sealed.line, written: waiter } : { line: sealed.line, durable: waiter },
    );
    if (!this.writeScheduled && !writeNow) {
      this.writeScheduled = true;
      queueMicrotask(() => this.writeBatch());
    }
  }

  private writeBatch(): void {
    this.writeScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      let chunk = "";
      let chunkBytes = 0;
      for (const q of batch) {
        if (q.line === "") continue;
        const text = `${q.line}\n`;
        const bytes = Buffer.byteLength(text);
        if (this.size + chunkBytes > 0 && this.size + chunkBytes + bytes > this.segmentBytes) {
          this.writeAll(chunk, chunkBytes);
          this.rotate();
          chunk = "";
          chunkBytes = 0;
        }
        chunk += text;
        chunkBytes += bytes;
      }
      if (chunk) this.writeAll(chunk, chunkBytes);
    } catch (e) {
      this.fail(e, batch);
      return;
    }
    const observed = auditChannel.hasSubscribers;
    for (const q of batch) {
      if (q.line !== "") this.writtenSeq = (q.written ?? q.durable)!.envelope.seq;
      if (q.written) q.written.resolve(q.written.envelope);
      if (q.durable) this.awaitingSync.push(q.durable);
      if (observed && q.line !== "") {
        auditChannel.publish({ dir: this.dir, envelope: (q.written ?? q.durable)!.envelope });
      }
    }
    this.requestSync();
  }

  /** Writes `text` (`bytes` long in UTF-8): the string itself, a Buffer only after a short write. */
  private writeAll(text: string, bytes: number): void {
    if (!text) return;
    let off = writeSync(this.fd, text);
    if (off < bytes) {
      const buf = Buffer.from(text);
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    }
    this.size += bytes;
  }

  /** Closes the current segment durably and starts the next; rare, so done synchronously. */
  private rotate(): void {
    fdatasyncSync(this.fd);
    if (this.syncInFlight) this.retired.push(this.fd);
    else closeSync(this.fd);
    this.segment += 1;
    this.fd = openSync(join(this.dir, segmentName(this.segment)), "a");
    fsyncDir(this.dir);
    this.size = 0;
  }

  /**
   * Starts an fsync if records were written since the last one (or someone waits) and none runs.
   * When nobody awaits durability the fsync waits up to `groupCommitMs` so that the records of
   * the calls arriving meanwhile share it (one fsync, one thread-pool round trip, for many).
   */
  private requestSync(): void {
    if (this.syncInFlight || this.failure) return;
    if (this.awaitingSync.length === 0 && this.writtenSeq === this.syncedSeq) return;
    if (this.awaitingSync.length === 0 && this.groupCommitMs > 0) {
      if (!this.syncTimer) {
        this.syncTimer = setTimeout(() => {
          this.syncTimer = undefined;
          this.startSync();
        }, this.groupCommitMs);
        this.syncTimer.unref();
      }
      return;
    }
    this.startSync();
  }

  private startSync(): void {
    if (this.syncInFlight || this.failure) return;
    if (this.awaitingSync.length === 0 && this.writtenSeq === this.syncedSeq) return;
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    const covered = this.awaitingSync;
    this.awaitingSync = [];
    const target = this.writtenSeq;
    const fd = this.fd;
    this.syncInFlight = new Promise<void>((done) => {
      fdatasync(fd, (err) => {
        this.syncInFlight = undefined;
        for (const old of this.retired.splice(0)) closeSync(old);
        if (err) {
          this.fail(err, [], covered);
        } else {
          this.syncedSeq = Math.max(this.syncedSeq, target);
          for (const w of covered) w.resolve(w.envelope);
          this.requestSync();
        }
        done();
      });
    });
  }

  /** A failed write or fsync poisons the log: the chain on disk can no longer be trusted to match. */
  private fail(e: unknown, batch: Queued[], covered: Waiter[] = []): void {
    const error = new PortcullisError(
      "GW_ERR_AUDIT",
      `audit log ${this.dir} failed: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
    this.failure ??= error;
    if (auditChannel.hasSubscribers) auditChannel.publish({ dir: this.dir, error: this.failure });
    const waiters = [
      ...covered,
      ...this.awaitingSync.splice(0),
      ...batch.flatMap((q) => [q.written, q.durable]),
      ...this.queue.splice(0).flatMap((q) => [q.written, q.durable]),
    ];
    for (const w of waiters) w?.reject(this.failure);
  }
}
