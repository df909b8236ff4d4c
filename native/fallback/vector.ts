/**
 * In-memory f32 vector index with upsert/delete, top-k by cosine or dot product, and a small
 * versioned binary file format. Scores are accumulated in f64 over eight lanes in a fixed order,
 * so a Rust implementation with the same lanes gives the same numbers bit for bit. An index holds
 * vectors of one embedding only; its id is stored in the file and checked on every query.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Metric, VectorHit, VectorStore } from "../vector-types.js";

export type { Metric, VectorHit, VectorStore } from "../vector-types.js";

/** Throws the RangeError both cores give for dimensions outside 1..65536 or an unknown metric. */
export function checkIndexShape(dims: number, metric: string): void {
  if (!Number.isInteger(dims) || dims < 1 || dims > 65536) throw new RangeError(`bad dimensions ${dims}`);
  if (metric !== "cosine" && metric !== "dot") throw new RangeError(`unknown metric (cosine or dot)`);
}

/** The k of a query as an unsigned count (what `Array.prototype.slice(0, k)` would keep). */
export function topK(k: number): number {
  return Number.isNaN(k) ? 0 : Math.min(Math.max(0, Math.trunc(k)), 0xffffffff);
}

/** Writes bytes atomically (temp file + rename). */
export function saveAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

const MAGIC = 0x58564350; // "PCVX" little-endian
const FORMAT_VERSION = 1;

/** Eight-lane f64 dot product; the lane order is part of the format's contract. */
export function dot(a: Float32Array, b: Float32Array): number {
  const lanes = [0, 0, 0, 0, 0, 0, 0, 0];
  const n = a.length;
  const full = n - (n % 8);
  for (let i = 0; i < full; i += 8) {
    for (let l = 0; l < 8; l++) lanes[l] = (lanes[l] as number) + (a[i + l] as number) * (b[i + l] as number);
  }
  for (let i = full; i < n; i++)
    lanes[i % 8] = (lanes[i % 8] as number) + (a[i] as number) * (b[i] as number);
  const [l0, l1, l2, l3, l4, l5, l6, l7] = lanes as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return l0 + l1 + (l2 + l3) + (l4 + l5 + (l6 + l7));
}

export class VectorIndex implements VectorStore {
  private readonly ids: string[] = [];
  private readonly metas: (string | undefined)[] = [];
  private readonly slots = new Map<string, number>();
  private data: Float32Array;
  private norms: number[] = [];

  constructor(
    readonly dims: number,
    readonly metric: Metric,
    readonly embedding: string,
  ) {
    checkIndexShape(dims, metric);
    this.data = new Float32Array(dims * 16);
  }

  get size(): number {
    return this.ids.length;
  }

  private check(vector: ArrayLike<number>, embedding: string): Float32Array {
    if (embedding !== this.embedding) {
      throw new RangeError(`vectors of embedding "${embedding}" cannot be compared with "${this.embedding}"`);
    }
    if (vector.length !== this.dims)
      throw new RangeError(`expected ${this.dims} dimensions, got ${vector.length}`);
    const v = Float32Array.from(vector);
    for (const x of v) if (!Number.isFinite(x)) throw new RangeError("vector components must be finite");
    return v;
  }

  /** Inserts or replaces a vector. */
  upsert(id: string, vector: ArrayLike<number>, embedding: string, meta?: string): void {
    const v = this.check(vector, embedding);
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.ids.length;
      if ((slot + 1) * this.dims > this.data.length) {
        const grown = new Float32Array(Math.max(this.data.length * 2, (slot + 1) * this.dims));
        grown.set(this.data);
        this.data = grown;
      }
      this.ids.push(id);
      this.metas.push(meta);
      this.slots.set(id, slot);
    } else this.metas[slot] = meta;
    this.data.set(v, slot * this.dims);
    this.norms[slot] = Math.sqrt(dot(v, v));
  }

  /** Removes a vector; false when absent. The last slot moves into the hole. */
  delete(id: string): boolean {
    const slot = this.slots.get(id);
    if (slot === undefined) return false;
    const last = this.ids.length - 1;
    if (slot !== last) {
      const lastId = this.ids[last] as string;
      this.data.copyWithin(slot * this.dims, last * this.dims, (last + 1) * this.dims);
      this.ids[slot] = lastId;
      this.metas[slot] = this.metas[last];
      this.norms[slot] = this.norms[last] as number;
      this.slots.set(lastId, slot);
    }
    this.ids.pop();
    this.metas.pop();
    this.norms.pop();
    this.slots.delete(id);
    return true;
  }

  /** The k best vectors, by score descending, ties by id. */
  query(vector: ArrayLike<number>, embedding: string, k: number): VectorHit[] {
    const q = this.check(vector, embedding);
    const qn = Math.sqrt(dot(q, q));
    const hits: { slot: number; score: number }[] = [];
    for (let s = 0; s < this.ids.length; s++) {
      const row = this.data.subarray(s * this.dims, (s + 1) * this.dims);
      let score = dot(q, row);
      if (this.metric === "cosine") {
        const d = qn * (this.norms[s] as number);
        score = d === 0 ? 0 : score / d;
      }
      hits.push({ slot: s, score });
    }
    hits.sort(
      (a, b) => b.score - a.score || compareIds(this.ids[a.slot] as string, this.ids[b.slot] as string),
    );
    return hits.slice(0, topK(k)).map(({ slot, score }) => {
      const meta = this.metas[slot];
      return meta === undefined
        ? { id: this.ids[slot] as string, score }
        : { id: this.ids[slot] as string, score, meta };
    });
  }

  async queryAsync(vector: ArrayLike<number>, embedding: string, k: number): Promise<VectorHit[]> {
    return this.query(vector, embedding, k);
  }

  /** Metadata stored with a vector. */
  meta(id: string): string | undefined {
    const slot = this.slots.get(id);
    return slot === undefined ? undefined : this.metas[slot];
  }

  /** Serialises the index (format version 1, little-endian). */
  toBuffer(): Buffer {
    const enc = (s: string) => Buffer.from(s, "utf8");
    const parts: Buffer[] = [];
    const header = Buffer.alloc(13);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(FORMAT_VERSION, 4);
    header.writeUInt32LE(this.dims, 8);
    header.writeUInt8(this.metric === "cosine" ? 0 : 1, 12);
    parts.push(header, lenPrefixed(enc(this.embedding)), u32(this.ids.length));
    for (let s = 0; s < this.ids.length; s++) {
      const meta = this.metas[s];
      parts.push(lenPrefixed(enc(this.ids[s] as string)));
      parts.push(meta === undefined ? u32(0xffffffff) : lenPrefixed(enc(meta)));
      const row = this.data.slice(s * this.dims, (s + 1) * this.dims);
      parts.push(Buffer.from(row.buffer, row.byteOffset, row.byteLength));
    }
    return Buffer.concat(parts);
  }

  /** Parses a buffer written by `toBuffer`; throws on anything else. */
  static fromBuffer(buf: Buffer): VectorIndex {
    let at = 0;
    const need = (n: number) => {
      if (at + n > buf.length) throw new RangeError("vector index file is truncated");
    };
    const readU32 = () => {
      need(4);
      const v = buf.readUInt32LE(at);
      at += 4;
      return v;
    };
    const readStr = (len: number) => {
      need(len);
      const s = buf.toString("utf8", at, at + len);
      at += len;
      return s;
    };
    if (readU32() !== MAGIC) throw new RangeError("not a vector index file");
    const version = readU32();
    if (version !== FORMAT_VERSION) throw new RangeError(`unsupported vector index version ${version}`);
    const dims = readU32();
    need(1);
    const metric: Metric = buf.readUInt8(at++) === 0 ? "cosine" : "dot";
    const index = new VectorIndex(dims, metric, readStr(readU32()));
    const count = readU32();
    for (let i = 0; i < count; i++) {
      const id = readStr(readU32());
      const ml = readU32();
      const meta = ml === 0xffffffff ? undefined : readStr(ml);
      need(dims * 4);
      const row = new Float32Array(dims);
      for (let d = 0; d < dims; d++) row[d] = buf.readFloatLE(at + d * 4);
      at += dims * 4;
      index.upsert(id, row, index.embedding, meta);
    }
    return index;
  }

  /** Writes the index atomically (temp file + rename). */
  save(path: string): void {
    saveAtomically(path, this.toBuffer());
  }

  static load(path: string): VectorIndex {
    return VectorIndex.fromBuffer(readFileSync(path));
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}

function lenPrefixed(b: Buffer): Buffer {
  return Buffer.concat([u32(b.length), b]);
}

/** Code-unit order, the tie-break both cores use. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
