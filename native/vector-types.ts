/**
 * The vector index as both cores offer it: the TypeScript `VectorIndex` (fallback/vector.ts)
 * and the Rust one wrapped by `addon-vector.ts`. Same methods, same results, same file format.
 */

export type Metric = "cosine" | "dot";

export interface VectorHit {
  id: string;
  score: number;
  meta?: string;
}

/** An f32 vector index of one embedding, with top-k by cosine or dot product. */
export interface VectorStore {
  readonly dims: number;
  readonly metric: Metric;
  readonly embedding: string;
  readonly size: number;
  /** Inserts or replaces a vector; RangeError for another embedding, a wrong length or non-finite values. */
  upsert(id: string, vector: ArrayLike<number>, embedding: string, meta?: string): void;
  /** Removes a vector; false when absent. */
  delete(id: string): boolean;
  /** The k best vectors, by score descending, ties by id (code-unit order). */
  query(vector: ArrayLike<number>, embedding: string, k: number): VectorHit[];
  /** `query` off the JS thread where the core can (native); same result. */
  queryAsync(vector: ArrayLike<number>, embedding: string, k: number): Promise<VectorHit[]>;
  /** Metadata stored with a vector. */
  meta(id: string): string | undefined;
  /** The PCVX v1 bytes of the index. */
  toBuffer(): Buffer;
  /** Writes the index atomically (temp file + rename). */
  save(path: string): void;
}
