/**
 * Shape of the napi addon (`native/portcullis.node`) as seen from TypeScript. Names follow
 * napi-rs's camelCase conversion of the Rust functions in `native/napi/src/`. Keep this file in
 * step with the binding crate; the loader refuses an addon that lacks a required export.
 */

/** An instance of the addon's `NativeVectorIndex` class. */
export interface NativeVectorIndexHandle {
  /** `[dims, metric, embedding, size]`. */
  info(): [number, string, string, number];
  upsert(id: string, vector: Float32Array, embedding: string, meta: string | undefined): void;
  delete(id: string): boolean;
  meta(id: string): string | null | undefined;
  /** Hits as JSON text. */
  query(vector: Float32Array, embedding: string, k: number): string;
  queryAsync(vector: Float32Array, embedding: string, k: number): Promise<string>;
  toBuffer(): Buffer;
}

/** A file range as the addon returns it (`text` null for binary files). */
export interface NativeFileRange {
  size: number;
  bytes: number;
  truncated: boolean;
  binary: boolean;
  text?: string | null;
}

export interface NativeBinding {
  coreVersion(): string;
  canonicalizeJson(text: string): string;
  digestJson(text: string): string;
  /** Canonical text of JSON.stringify output (its numbers and strings are already canonical). */
  canonicalizeStringified(text: string): string;
  digestStringified(text: string): string;
  sha256Hex(data: string | Uint8Array): string;
  /** Findings in a text, as JSON text. */
  scanText(text: string): string;
  /** Findings in every string of a JSON document (given as text), as JSON text. */
  scanValueJson(json: string): string;
  scanTextAsync(text: string): Promise<string>;
  /** Findings in a text as `[detector index, start, end]` triples (index into the detector table). */
  scanTextPacked(text: string): Uint32Array;
  scanTextPackedAsync(text: string): Promise<Uint32Array>;
  scanValueJsonAsync(json: string): Promise<string>;
  /** `{value, findings, mapping?}` of a JSON document redacted per options (both JSON text). */
  redactValueJson(json: string, options: string): string;
  redactValueJsonAsync(json: string, options: string): Promise<string>;
  /** Why a Rust-syntax search pattern does not compile, or null. */
  searchPatternError(pattern: string): string | null;
  /** Workspace listing of a resolved request (JSON text) on the thread pool, as JSON text. */
  listFilesAsync(request: string): Promise<string>;
  /** A byte range of a resolved regular file on the thread pool. */
  readFileAsync(path: string, offset: number, want: number): Promise<NativeFileRange>;
  /**
   * The input JSON text projected by a bundle's projection declaration (`{keep, by_action}` JSON
   * text): the Rust twin of the TypeScript projection, for parity tests. Throws on a bad
   * declaration or input. Optional: addons built before it lack it.
   */
  policyProject?(declarationJson: string, inputJson: string): string;
  /** One cancellable workspace search; `run` takes and gives JSON text. */
  NativeFileSearch: new () => { cancel(): void; run(request: string): Promise<string> };
  /** The Rust vector index class. */
  NativeVectorIndex: {
    new (dims: number, metric: string, embedding: string): NativeVectorIndexHandle;
    fromBuffer(buf: Uint8Array): NativeVectorIndexHandle;
  };
}
