/**
 * The one interface both implementations of the native core satisfy: the Rust addon wrapped by
 * `addon.ts` and the TypeScript fallback in `fallback/`. `native/index.ts` picks one at load
 * time; the parity suite in conformance/native/ builds both explicitly and compares outputs.
 */

import type { FileRange, ListRequest, ListResult, ReadRequest } from "./files-types.js";
import type { Finding, Redaction, RedactOptions } from "./sanitizer-types.js";
import type { FileSearchRequest, FileSearchResult } from "./search-types.js";
import type { Metric, VectorStore } from "./vector-types.js";

export interface NativeCore {
  readonly implementation: "native" | "fallback";
  /** RFC 8785 canonical JSON text of a JSON-compatible value. */
  canonicalize(value: unknown): string;
  /** Lower-case hex sha256 of a string (UTF-8) or bytes. */
  sha256Hex(data: string | Uint8Array): string;
  /** sha256 of the canonical JSON of a value. */
  digest(value: unknown): string;
  /** Sanitizer findings in a text (UTF-8 byte spans). */
  scanText(text: string): Finding[];
  /** Sanitizer findings in every string of a JSON value, with paths. */
  scanValue(value: unknown): Finding[];
  /** `scanText` off the JS thread where the core can (native); same result. */
  scanTextAsync(text: string): Promise<Finding[]>;
  /** `scanValue` off the JS thread where the core can (native); same result. */
  scanValueAsync(value: unknown): Promise<Finding[]>;
  /** Redacts findings of the chosen classes out of every string of a JSON value. */
  redactValue(value: unknown, opts: RedactOptions): Redaction;
  /** `redactValue` off the JS thread where the core can (native); same result. */
  redactValueAsync(value: unknown, opts: RedactOptions): Promise<Redaction>;
  /** An empty vector index (dimensions 1..65536) holding vectors of one embedding. */
  createVectorIndex(dims: number, metric: Metric, embedding: string): VectorStore;
  /** A vector index parsed from PCVX v1 bytes; RangeError on anything else. */
  vectorIndexFromBuffer(bytes: Uint8Array): VectorStore;
  /** Workspace file search of a resolved request (off the JS thread when native). */
  searchFiles(req: FileSearchRequest, signal?: AbortSignal): Promise<FileSearchResult>;
  /** Workspace listing of a resolved directory (off the JS thread when native). */
  listFiles(req: ListRequest): Promise<ListResult>;
  /** A byte range of a resolved regular file (off the JS thread when native). */
  readFile(req: ReadRequest): Promise<FileRange>;
}
