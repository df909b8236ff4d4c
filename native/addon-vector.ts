/**
 * The Rust vector index behind the `VectorStore` interface. Arguments are checked and converted
 * here exactly as the TypeScript index does it (Float32Array.from, then the core's checks), and
 * the core's errors come back as RangeError with the same messages, so callers see one behaviour.
 */
import type { NativeVectorIndexHandle } from "./binding.js";
import { checkIndexShape, saveAtomically, topK } from "./fallback/vector.js";
import type { Metric, VectorHit, VectorStore } from "./vector-types.js";

function asRange(e: unknown): unknown {
  return e instanceof Error && !(e instanceof RangeError) ? new RangeError(e.message) : e;
}

function call<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw asRange(e);
  }
}

/** A `VectorStore` backed by the addon's `NativeVectorIndex`. */
export class AddonVectorIndex implements VectorStore {
  readonly dims: number;
  readonly metric: Metric;
  readonly embedding: string;

  constructor(private readonly handle: NativeVectorIndexHandle) {
    const [dims, metric, embedding] = handle.info();
    this.dims = dims;
    this.metric = metric as Metric;
    this.embedding = embedding;
  }

  static check(dims: number, metric: string): void {
    checkIndexShape(dims, metric);
  }

  get size(): number {
    return this.handle.info()[3];
  }

  upsert(id: string, vector: ArrayLike<number>, embedding: string, meta?: string): void {
    call(() => this.handle.upsert(String(id), Float32Array.from(vector), embedding, meta));
  }

  delete(id: string): boolean {
    return this.handle.delete(String(id));
  }

  query(vector: ArrayLike<number>, embedding: string, k: number): VectorHit[] {
    return JSON.parse(
      call(() => this.handle.query(Float32Array.from(vector), embedding, topK(k))),
    ) as VectorHit[];
  }

  async queryAsync(vector: ArrayLike<number>, embedding: string, k: number): Promise<VectorHit[]> {
    try {
      return JSON.parse(
        await this.handle.queryAsync(Float32Array.from(vector), embedding, topK(k)),
      ) as VectorHit[];
    } catch (e) {
      throw asRange(e);
    }
  }

  meta(id: string): string | undefined {
    return this.handle.meta(String(id)) ?? undefined;
  }

  toBuffer(): Buffer {
    return this.handle.toBuffer();
  }

  save(path: string): void {
    saveAtomically(path, this.toBuffer());
  }
}
