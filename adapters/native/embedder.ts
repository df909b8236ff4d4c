/**
 * Embedders turn text into vectors for the memory capability. Only the local lexical embedder
 * exists today: hashed words and character trigrams, signed, L2-normalised, deterministic and
 * offline. Provider embeddings (model routing) will implement the same `Embedder` interface;
 * each embedder has an id, and vectors of different ids are never compared.
 */

export interface Embedder {
  /** Stable id stored with every vector, e.g. "local-lexical-v1@384". */
  readonly id: string;
  readonly dimensions: number;
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, "utf8")) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Deterministic local lexical embedding (no network, no model). */
export class LexicalEmbedder implements Embedder {
  readonly id: string;

  constructor(readonly dimensions = 384) {
    this.id = `local-lexical-v1@${dimensions}`;
  }

  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dimensions);
    const add = (feature: string, weight: number) => {
      const h = fnv1a(feature);
      v[h % this.dimensions] = (v[h % this.dimensions] as number) + (h & 0x80000000 ? -weight : weight);
    };
    const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    for (const w of words) {
      add(`w:${w}`, 1);
      const padded = ` ${w} `;
      const chars = [...padded];
      for (let i = 0; i + 3 <= chars.length; i++) add(`c:${chars.slice(i, i + 3).join("")}`, 0.5);
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / norm;
    return v;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }
}
