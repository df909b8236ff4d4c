import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dot, VectorIndex } from "./vector.js";

describe("vector index", () => {
  it("upserts, deletes and ranks by cosine and dot", () => {
    const cos = new VectorIndex(3, "cosine", "e");
    cos.upsert("a", [1, 0, 0], "e");
    cos.upsert("b", [10, 10, 0], "e", "meta-b");
    cos.upsert("c", [0, 0, 1], "e");
    expect(cos.query([1, 0.1, 0], "e", 2).map((h) => h.id)).toEqual(["a", "b"]);
    const dp = new VectorIndex(3, "dot", "e");
    dp.upsert("a", [1, 0, 0], "e");
    dp.upsert("b", [10, 10, 0], "e");
    const [best] = dp.query([1, 0.1, 0], "e", 1);
    expect(best?.id).toBe("b");
    expect(best?.score).toBeCloseTo(11, 5);
    cos.upsert("a", [0, 0, 1], "e");
    expect(cos.delete("c")).toBe(true);
    expect(cos.delete("c")).toBe(false);
    expect(cos.size).toBe(2);
    expect(cos.query([0, 0, 1], "e", 5)[0]).toEqual({ id: "a", score: 1 });
  });

  it("never compares different embeddings or dimensions", () => {
    const idx = new VectorIndex(2, "cosine", "model-a");
    expect(() => idx.upsert("x", [1, 0], "model-b")).toThrow(/cannot be compared/);
    expect(() => idx.query([1, 0, 0], "model-a", 1)).toThrow(/expected 2 dimensions/);
    expect(() => idx.upsert("x", [Number.NaN, 0], "model-a")).toThrow(/finite/);
  });

  it("round-trips through the versioned file format and refuses others", () => {
    const dir = mkdtempSync(join(tmpdir(), "portcullis-vec-"));
    try {
      const idx = new VectorIndex(4, "dot", "emb-é");
      idx.upsert("one", [0.1, 0.2, 0.3, 0.4], "emb-é", '{"t":1}');
      idx.upsert("two", [1, 2, 3, 4], "emb-é");
      const file = join(dir, "v.bin");
      idx.save(file);
      const back = VectorIndex.load(file);
      expect(back.embedding).toBe("emb-é");
      expect(back.query([1, 1, 1, 1], "emb-é", 2)).toEqual(idx.query([1, 1, 1, 1], "emb-é", 2));
      expect(back.toBuffer().equals(idx.toBuffer())).toBe(true);
      writeFileSync(file, Buffer.from("garbage!"));
      expect(() => VectorIndex.load(file)).toThrow(/not a vector index file/);
      const truncated = idx.toBuffer().subarray(0, 30);
      expect(() => VectorIndex.fromBuffer(truncated)).toThrow(/truncated/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sums in eight fixed lanes", () => {
    const a = Float32Array.from({ length: 19 }, (_, i) => i + 0.5);
    const b = Float32Array.from({ length: 19 }, (_, i) => 1 / (i + 1));
    let plain = 0;
    for (let i = 0; i < 19; i++) plain += (a[i] as number) * (b[i] as number);
    expect(dot(a, b)).toBeCloseTo(plain, 10);
  });
});
