import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { NativeCore } from "../../native/core-api.js";
import { addonCore, fallbackCore } from "./cores.js";

const ts = fallbackCore;
const rs = addonCore();
const dir = mkdtempSync(join(tmpdir(), "portcullis-vector-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-random vectors (Park–Miller), with values of mixed magnitude. */
function vectors(count: number, dims: number, seed: number): number[][] {
  let s = seed;
  const next = () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: dims }, () => (next() - 0.5) * (next() < 0.1 ? 1000 : 1)),
  );
}

function build(core: NativeCore, metric: "cosine" | "dot", dims: number) {
  const index = core.createVectorIndex(dims, metric, "test-emb");
  const rows = vectors(300, dims, 7);
  rows.forEach((v, i) => {
    index.upsert(`id-${i % 250}`, v, "test-emb", i % 3 === 0 ? `meta ${i}` : undefined);
  });
  for (let i = 0; i < 250; i += 7) index.delete(`id-${i}`);
  index.upsert("é😀", rows[0] as number[], "test-emb");
  index.upsert("\uff61", rows[0] as number[], "test-emb", "tie");
  return index;
}

describe("vector index parity", () => {
  it.each([
    ["cosine", 384],
    ["dot", 13],
    ["cosine", 1],
  ] as const)(
    "%s over %i dimensions: same hits, scores bit for bit, same file bytes",
    async (metric, dims) => {
      const a = build(ts, metric, dims);
      const b = build(rs, metric, dims);
      expect(b.size).toBe(a.size);
      for (const q of vectors(5, dims, 99)) {
        const want = a.query(q, "test-emb", 20);
        expect(want).toHaveLength(20);
        expect(b.query(q, "test-emb", 20)).toEqual(want);
        expect(await b.queryAsync(q, "test-emb", 20)).toEqual(want);
        expect(await a.queryAsync(q, "test-emb", 20)).toEqual(want);
      }
      const q0 = vectors(1, dims, 7)[0] as number[];
      expect(b.query(q0, "test-emb", 1000)).toEqual(a.query(q0, "test-emb", 1000));
      expect(Buffer.compare(a.toBuffer(), b.toBuffer())).toBe(0);
      // Each core reads the other's file.
      const fromTs = rs.vectorIndexFromBuffer(a.toBuffer());
      const fromRs = ts.vectorIndexFromBuffer(b.toBuffer());
      expect(fromTs.query(q0, "test-emb", 7)).toEqual(a.query(q0, "test-emb", 7));
      expect(fromRs.meta("id-3")).toBe(b.meta("id-3"));
      expect(b.meta("id-0")).toBeUndefined();
      const file = join(dir, `${metric}-${dims}.pcvx`);
      b.save(file);
      expect(Buffer.compare(readFileSync(file), a.toBuffer())).toBe(0);
    },
  );

  it("ranks ties by UTF-16 code units and odd k the same way", () => {
    for (const core of [ts, rs]) {
      const index = core.createVectorIndex(2, "dot", "e");
      for (const id of ["\uff61", "😀", "b", "a"]) index.upsert(id, [1, 1], "e");
      expect(index.query([1, 1], "e", 3).map((h) => h.id)).toEqual(["a", "b", "😀"]);
      expect(index.query([1, 1], "e", 2.7)).toHaveLength(2);
      expect(index.query([1, 1], "e", -1)).toEqual([]);
      expect(index.query([1, 1], "e", Number.NaN)).toEqual([]);
      expect(index.query([0, 0], "e", 1)[0]?.score).toBe(0);
    }
  });

  it("refuses the same bad input with the same RangeError", () => {
    const cases: [string, (c: NativeCore) => unknown][] = [
      ["dims", (c) => c.createVectorIndex(0, "dot", "e")],
      ["metric", (c) => c.createVectorIndex(2, "manhattan" as "dot", "e")],
      ["embedding", (c) => c.createVectorIndex(2, "dot", "e").upsert("x", [1, 2], "f")],
      ["length", (c) => c.createVectorIndex(2, "dot", "e").upsert("x", [1], "e")],
      ["finite", (c) => c.createVectorIndex(2, "dot", "e").upsert("x", [1, 1e39], "e")],
      ["query", (c) => c.createVectorIndex(2, "dot", "e").query([1, Number.NaN], "e", 1)],
      ["magic", (c) => c.vectorIndexFromBuffer(Buffer.from("nope nope nope"))],
      [
        "truncated",
        (c) => c.vectorIndexFromBuffer(c.createVectorIndex(2, "dot", "e").toBuffer().subarray(0, 15)),
      ],
    ];
    for (const [name, f] of cases) {
      let tsError: unknown;
      try {
        f(ts);
      } catch (e) {
        tsError = e;
      }
      expect(tsError, name).toBeInstanceOf(RangeError);
      expect(() => f(rs), name).toThrow(RangeError);
      expect(() => f(rs), name).toThrow((tsError as Error).message);
    }
  });
});
