/**
 * The memory capability's store: text with a vector, one vector index per embedding, persisted
 * next to the configured memory file. Without a caller vector the configured embedder (today the
 * local lexical one) embeds the text; caller vectors name their embedding, and a query only ever
 * compares vectors of the same embedding.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { PortcullisError } from "../../gateway/errors.js";
import {
  createVectorIndex,
  type VectorHit,
  type VectorStore,
  vectorIndexFromBuffer,
} from "../../native/index.js";
import type { Embedder } from "./embedder.js";

export interface MemoryRecord {
  id: string;
  text: string;
  metadata?: Record<string, unknown>;
}

export interface MemoryHit extends MemoryRecord {
  score: number;
  embedding: string;
}

function fileFor(base: string, embedding: string, local: string): string {
  if (embedding === local) return base;
  return `${base}.${Buffer.from(embedding, "utf8").toString("base64url")}.emb`;
}

export class MemoryStore {
  private readonly indexes = new Map<string, VectorStore>();

  private constructor(
    private readonly file: string,
    readonly embedder: Embedder,
  ) {}

  /** Opens (or creates) the store; existing index files are loaded. */
  static open(file: string, embedder: Embedder): MemoryStore {
    const store = new MemoryStore(file, embedder);
    mkdirSync(dirname(file), { recursive: true });
    const dir = dirname(file);
    const base = basename(file);
    for (const name of readdirSync(dir)) {
      if (name !== base && !(name.startsWith(`${base}.`) && name.endsWith(".emb"))) continue;
      const index = vectorIndexFromBuffer(readFileSync(join(dir, name)));
      store.indexes.set(index.embedding, index);
    }
    return store;
  }

  private indexFor(embedding: string, dims: number): VectorStore {
    let index = this.indexes.get(embedding);
    if (!index) {
      index = createVectorIndex(dims, "cosine", embedding);
      this.indexes.set(embedding, index);
    }
    return index;
  }

  /** Stores a text, embedding it unless a vector (and its embedding id) is given. */
  async upsert(input: {
    id?: string;
    text: string;
    vector?: number[];
    embedding?: string;
    metadata?: Record<string, unknown>;
  }): Promise<{ id: string; embedding: string; dimensions: number }> {
    const id = input.id ?? randomUUID();
    let vector: ArrayLike<number>;
    let embedding: string;
    if (input.vector) {
      if (!input.embedding)
        throw new PortcullisError("GW_ERR_USAGE", "a caller vector needs its embedding id");
      if (input.embedding === this.embedder.id)
        throw new PortcullisError("GW_ERR_USAGE", `embedding id ${input.embedding} is reserved`);
      vector = input.vector;
      embedding = input.embedding;
    } else {
      [vector] = (await this.embedder.embed([input.text])) as [Float32Array];
      embedding = this.embedder.id;
    }
    const index = this.indexFor(embedding, vector.length);
    const record: Omit<MemoryRecord, "id"> = input.metadata
      ? { text: input.text, metadata: input.metadata }
      : { text: input.text };
    try {
      index.upsert(id, vector, embedding, JSON.stringify(record));
    } catch (e) {
      throw new PortcullisError("GW_ERR_USAGE", (e as Error).message);
    }
    index.save(fileFor(this.file, embedding, this.embedder.id));
    return { id, embedding, dimensions: index.dims };
  }

  /** The k most similar memories to a text (local embedding) or a vector of a named embedding. */
  async query(input: {
    text?: string;
    vector?: number[];
    embedding?: string;
    k?: number;
    minScore?: number;
  }): Promise<MemoryHit[]> {
    const k = Math.min(Math.max(input.k ?? 5, 1), 100);
    let vector: ArrayLike<number>;
    let embedding: string;
    if (input.vector) {
      if (!input.embedding)
        throw new PortcullisError("GW_ERR_USAGE", "a query vector needs its embedding id");
      vector = input.vector;
      embedding = input.embedding;
    } else if (typeof input.text === "string") {
      [vector] = (await this.embedder.embed([input.text])) as [Float32Array];
      embedding = this.embedder.id;
    } else throw new PortcullisError("GW_ERR_USAGE", "memory query needs text or a vector");
    const index = this.indexes.get(embedding);
    if (!index) return [];
    let hits: VectorHit[];
    try {
      hits = await index.queryAsync(vector, embedding, k);
    } catch (e) {
      throw new PortcullisError("GW_ERR_USAGE", (e as Error).message);
    }
    return hits
      .filter((h) => input.minScore === undefined || h.score >= input.minScore)
      .map((h) => {
        const rec = JSON.parse(h.meta ?? "{}") as Omit<MemoryRecord, "id">;
        return { id: h.id, score: h.score, embedding, ...rec };
      });
  }

  get size(): number {
    let n = 0;
    for (const i of this.indexes.values()) n += i.size;
    return n;
  }

  static exists(file: string): boolean {
    return existsSync(file);
  }
}
