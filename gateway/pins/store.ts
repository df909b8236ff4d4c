/**
 * Tool definition pinning. The first time the gateway sees a tool, its definition hash is pinned
 * in `portcullis.lock` (the "first approval"); from then on a different definition is reported as
 * `changed: true` — which the default policy denies — and its hash is kept as `pending_hash` until
 * someone approves it (`portcullis pin --approve <tool>` or the ask_user flow). The store re-reads
 * the file when another process (the CLI) has replaced it, so approvals apply without a restart.
 * The per-call check looks at the file's stat at most every `recheckMs` (default 100 ms), so a
 * change made by another process is seen within that window; every other operation (approve,
 * get, list, and any write) always looks first.
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { digest } from "../../native/index.js";
import { type Clock, systemClock } from "../clock.js";
import { PortcullisError } from "../errors.js";
import { type LockDocument, type PinEntry, readLock, writeLock } from "./lockfile.js";

/** Name of the lock file. */
export const LOCK_FILE_NAME = "portcullis.lock";

/** The lock file of a configuration: beside the config file (`LoadedConfig.baseDir`). */
export function lockPathFor(baseDir: string): string {
  return join(baseDir, LOCK_FILE_NAME);
}

/** The parts of an MCP tool definition that are pinned; other members (e.g. `_meta`) are ignored. */
export interface ToolDefinition {
  name: string;
  description?: string | undefined;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}

/** digest() of canonical {name, description, inputSchema, outputSchema, annotations}. */
export function toolDefinitionHash(definition: ToolDefinition): string {
  const { name, description, inputSchema, outputSchema, annotations } = definition;
  return digest({ name, description, inputSchema, outputSchema, annotations });
}

export interface PinCheck {
  /** Hash of the definition just seen (PolicyInput target.definition_hash). */
  hash: string;
  /** The definition differs from the approved pin (PolicyInput target.changed). */
  changed: boolean;
  /** The lock holds a pin for this tool (always true after a check). */
  pinned: boolean;
  /** The approved hash. */
  pinned_hash: string;
  /** This check created the pin (first sight). */
  first_seen: boolean;
}

/*
 * Tool names come from upstreams, so they are only ever own properties: "__proto__" or
 * "constructor" must name a tool, never reach Object.prototype.
 */
function pinOf(doc: LockDocument, tool: string): PinEntry | undefined {
  return Object.hasOwn(doc.tools, tool) ? doc.tools[tool] : undefined;
}

function setPin(doc: LockDocument, tool: string, entry: PinEntry): void {
  Object.defineProperty(doc.tools, tool, {
    value: entry,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

const HASH = /^[0-9a-f]{64}$/;

/** The pinned definitions of one lock file. */
export class PinStore {
  readonly path: string;
  private readonly clock: Clock;
  private readonly recheckMs: number;
  private doc: LockDocument;
  private stamp: string | undefined;
  /** performance.now() of the last look at the file's stat. */
  private lookedAt = 0;

  private constructor(path: string, clock: Clock, recheckMs: number) {
    this.path = path;
    this.clock = clock;
    this.recheckMs = recheckMs;
    this.doc = readLock(path);
    this.stamp = this.fileStamp();
  }

  /**
   * Opens the lock at `lockPath` (created on the first pin). Throws on an invalid file.
   * `recheckMs`: how stale the per-call view of another process's changes may be (0: stat on
   * every check).
   */
  static open(lockPath: string, opts: { clock?: Clock; recheckMs?: number } = {}): PinStore {
    const recheckMs = opts.recheckMs ?? 100;
    if (!Number.isFinite(recheckMs) || recheckMs < 0) {
      throw new PortcullisError("GW_ERR_USAGE", `recheckMs must be a non-negative number, got ${recheckMs}`);
    }
    return new PinStore(resolve(lockPath), opts.clock ?? systemClock, recheckMs);
  }

  /** Compares a tool's definition with its pin, pinning it on first sight. */
  check(tool: string, definition: ToolDefinition): PinCheck {
    const [result] = this.checkMany([[tool, definition]]);
    return result!;
  }

  /** `check` for many tools (a tools/list) with at most one write of the lock. */
  checkMany(tools: ReadonlyArray<readonly [string, ToolDefinition]>): PinCheck[] {
    return this.checkHashes(tools.map(([tool, def]) => [tool, toolDefinitionHash(def)] as const));
  }

  /**
   * `check` with a hash the caller computed (`toolDefinitionHash`) — for the per-call path, where
   * the registry hashes each definition once per listing instead of once per call.
   */
  checkHash(tool: string, hash: string): PinCheck {
    // The per-call fast path: a settled pin (approved, nothing pending) that matches needs no
    // write, so it is answered from memory once the file's stat is recent enough.
    if (this.recheckMs > 0 && performance.now() - this.lookedAt < this.recheckMs) {
      const pin = pinOf(this.doc, tool);
      if (pin && pin.hash === hash && pin.pending_hash === undefined && HASH.test(hash)) {
        return { hash, changed: false, pinned: true, pinned_hash: hash, first_seen: false };
      }
    }
    const [result] = this.checkHashes([[tool, hash]]);
    return result!;
  }

  /** `checkHash` for many tools with at most one write of the lock. */
  checkHashes(hashes: ReadonlyArray<readonly [string, string]>): PinCheck[] {
    for (const [tool, hash] of hashes) {
      if (!HASH.test(hash)) {
        throw new PortcullisError("GW_ERR_USAGE", `definition hash of '${tool}' is not a sha256 hex digest`);
      }
    }
    this.refresh();
    const needsWrite = hashes.some(([tool, hash]) => {
      const pin = pinOf(this.doc, tool);
      return !pin || (pin.hash === hash ? pin.pending_hash !== undefined : pin.pending_hash !== hash);
    });
    const existed = !needsWrite
      ? undefined
      : this.mutate((doc, now) => {
          for (const [tool, hash] of hashes) {
            const pin = pinOf(doc, tool);
            if (!pin) {
              setPin(doc, tool, { hash, first_seen: now, approved_at: now, approved_by: "first-use" });
            } else if (pin.hash === hash) {
              // The upstream went back to the approved definition: nothing is pending any more.
              delete pin.pending_hash;
              delete pin.pending_since;
            } else if (pin.pending_hash !== hash) {
              pin.pending_hash = hash;
              pin.pending_since = now;
            }
          }
        });
    return hashes.map(([tool, hash]) => {
      const pin = pinOf(this.doc, tool)!;
      return {
        hash,
        changed: pin.hash !== hash,
        pinned: true,
        pinned_hash: pin.hash,
        first_seen: existed !== undefined && !existed.has(tool),
      };
    });
  }

  /** Approves `definition` as the tool's pin (the ask_user flow, or a caller holding the definition). */
  approve(tool: string, definition: ToolDefinition, by = "gateway"): PinEntry {
    return this.approveHash(tool, toolDefinitionHash(definition), by);
  }

  /** Approves the pending definition of a changed tool (what `portcullis pin --approve` does). */
  approvePending(tool: string, by: string): PinEntry {
    this.refresh();
    const pin = pinOf(this.doc, tool);
    if (!pin) throw new PortcullisError("GW_ERR_NOT_FOUND", `no pin for tool '${tool}' in ${this.path}`);
    if (!pin.pending_hash) {
      throw new PortcullisError(
        "GW_ERR_NOT_FOUND",
        `tool '${tool}' has no changed definition awaiting approval`,
      );
    }
    return this.approveHash(tool, pin.pending_hash, by);
  }

  /** The pin of one tool. */
  get(tool: string): PinEntry | undefined {
    this.refresh();
    const pin = pinOf(this.doc, tool);
    return pin ? { ...pin } : undefined;
  }

  /** All pins, by tool name in sorted order. */
  list(): Array<{ tool: string } & PinEntry> {
    this.refresh();
    return Object.keys(this.doc.tools)
      .sort()
      .map((tool) => ({ tool, ...pinOf(this.doc, tool)! }));
  }

  /** Makes `hash` the approved pin of `tool` (a hash the caller already holds). */
  approveHash(tool: string, hash: string, by: string): PinEntry {
    let entry: PinEntry | undefined;
    this.mutate((doc, now) => {
      const pin = pinOf(doc, tool);
      entry = { hash, first_seen: pin?.first_seen ?? now, approved_at: now, approved_by: by };
      setPin(doc, tool, entry);
    });
    return { ...entry! };
  }

  /**
   * Read-modify-write against the newest file, so changes by the CLI are merged, not lost.
   * Returns the tools pinned before the change.
   */
  private mutate(change: (doc: LockDocument, now: string) => void): Set<string> {
    this.refresh();
    const before = new Set(Object.keys(this.doc.tools));
    // A JSON round trip keeps a "__proto__" tool an own property (structuredClone would too, but
    // assigning one on the copy would not).
    const next = JSON.parse(JSON.stringify(this.doc)) as LockDocument;
    change(next, this.clock.now().toISOString());
    mkdirSync(dirname(this.path), { recursive: true });
    writeLock(this.path, next);
    this.doc = next;
    this.stamp = this.fileStamp();
    this.lookedAt = performance.now();
    return before;
  }

  private refresh(): void {
    this.lookedAt = performance.now();
    const stamp = this.fileStamp();
    if (stamp !== this.stamp) {
      this.doc = readLock(this.path);
      this.stamp = stamp;
    }
  }

  private fileStamp(): string | undefined {
    try {
      const s = statSync(this.path, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }
}
