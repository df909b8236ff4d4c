/**
 * A bundle from the local disk, watched: a `.tar.gz` file, or a folder holding an unpacked bundle
 * (`.manifest`, `policy.wasm`, `data.json`, `.signatures.json`, ...) as OPA accepts one. A folder
 * is packed in memory with the same limits the archive reader applies (no symlinks, bounded entry
 * count and size) and then goes through the same activation as any download. Changes are picked
 * up through `fs.watch` on the parent folder (editors replace files by renaming), debounced, and
 * content that did not change is not activated again.
 */
import { createHash } from "node:crypto";
import { type FSWatcher, watch } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { errorMessage, PortcullisError } from "../../gateway/errors.js";
import type { ActivationResult, BundleActivator } from "./activator.js";
import { type ArchiveLimits, archiveError, DEFAULT_ARCHIVE_LIMITS, writeBundleArchive } from "./archive.js";

export interface FileBundleSourceOptions {
  activator: BundleActivator;
  path: string;
  debounceMs?: number;
  limits?: ArchiveLimits;
}

/** Packs an unpacked bundle folder into archive bytes, refusing links and oversized trees. */
export async function packBundleFolder(
  root: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<Buffer> {
  const files = new Map<string, Uint8Array>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      const rel = relative(root, p).split("\\").join("/");
      if (e.isSymbolicLink()) throw archiveError("link_entry", `bundle folder holds a symbolic link: ${rel}`);
      if (e.isDirectory()) {
        await walk(p);
        continue;
      }
      if (!e.isFile()) throw archiveError("unsupported_entry", `bundle folder holds a special file: ${rel}`);
      if (files.size + 1 > limits.maxEntries)
        throw archiveError("too_many_entries", `bundle folder has more than ${limits.maxEntries} files`);
      const { size } = await lstat(p);
      total += size;
      if (total > limits.maxUncompressedBytes)
        throw archiveError(
          "uncompressed_too_large",
          `bundle folder exceeds ${limits.maxUncompressedBytes} bytes`,
        );
      files.set(rel, await readFile(p));
    }
  };
  await walk(root);
  return writeBundleArchive(files);
}

export class FileBundleSource {
  readonly #o: FileBundleSourceOptions;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastDigest: string | undefined;
  #pending: Promise<unknown> = Promise.resolve();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: FileBundleSourceOptions) {
    this.#o = opts;
  }

  /** Reads the file or folder and activates it unless its content is unchanged (one at a time). */
  load(): Promise<ActivationResult | "unchanged"> {
    const run = this.#queue.then(() => this.#loadNow());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #loadNow(): Promise<ActivationResult | "unchanged"> {
    const { path, activator } = this.#o;
    const tracker = activator.tracker;
    tracker.request();
    let bytes: Buffer;
    try {
      const info = await lstat(path);
      if (info.isSymbolicLink()) throw archiveError("link_entry", `bundle path is a symbolic link: ${path}`);
      if (info.isDirectory()) bytes = await packBundleFolder(path, this.#o.limits);
      else {
        const max = (this.#o.limits ?? DEFAULT_ARCHIVE_LIMITS).maxCompressedBytes;
        if (info.size > max)
          throw archiveError(
            "compressed_too_large",
            `bundle is ${info.size} bytes compressed; the limit is ${max}`,
          );
        bytes = await readFile(path);
      }
    } catch (e) {
      const reason = e instanceof PortcullisError ? String(e.details?.reason) : "read_failed";
      tracker.failed({ code: reason, message: `cannot read bundle ${path}: ${errorMessage(e)}` });
      throw e;
    }
    tracker.response(200, { size: bytes.length });
    const digest = createHash("sha256").update(bytes).digest("hex");
    if (digest === this.#lastDigest) return "unchanged";
    const result = await activator.activate(bytes, { kind: "file" });
    this.#lastDigest = digest;
    return result;
  }

  /** Loads once, then reloads after every change until {@link stop}. */
  async start(): Promise<void> {
    const { path } = this.#o;
    const isDir = await lstat(path)
      .then((s) => s.isDirectory())
      .catch(() => false);
    const watched = isDir ? path : dirname(path);
    const name = basename(path);
    this.#watcher = watch(watched, { recursive: isDir, persistent: false }, (_event, file) => {
      if (!isDir && file !== null && file !== name) return;
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        this.#pending = this.load().catch(() => undefined);
      }, this.#o.debounceMs ?? 200);
    });
    this.#pending = this.load().catch(() => undefined);
    await this.#pending;
  }

  async stop(): Promise<void> {
    this.#watcher?.close();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#pending;
  }
}
