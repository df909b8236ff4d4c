import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { addonCore, fallbackCore } from "./cores.js";

interface Vector {
  name: string;
  input: string;
  canonical: string;
}

const { vectors } = JSON.parse(
  readFileSync(new URL("./canonical.vectors.json", import.meta.url), "utf8"),
) as { vectors: Vector[] };
const cores = [fallbackCore, addonCore()];

describe.each(cores.map((c) => [c.implementation, c] as const))("canonical JSON (%s)", (_name, core) => {
  it.each(vectors.map((v) => [v.name, v] as const))("vector %s", (_n, v) => {
    expect(core.canonicalize(JSON.parse(v.input))).toBe(v.canonical);
    expect(core.digest(JSON.parse(v.input))).toBe(core.sha256Hex(v.canonical));
  });

  it("refuses non-finite numbers", () => {
    expect(() => core.canonicalize({ a: Number.NaN })).toThrow(/cannot represent NaN/);
    expect(() => core.canonicalize([Number.POSITIVE_INFINITY])).toThrow(/cannot represent Infinity/);
  });

  it("hashes strings as UTF-8 and bytes as given", () => {
    expect(core.sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(core.sha256Hex(new Uint8Array([0x61, 0x62, 0x63]))).toBe(core.sha256Hex("abc"));
    expect(core.sha256Hex("é")).toBe(core.sha256Hex(new Uint8Array([0xc3, 0xa9])));
  });
});

describe("canonical JSON parity (addon vs fallback)", () => {
  const [ts, rs] = cores as [typeof fallbackCore, typeof fallbackCore];

  it("agrees on 20,000 random doubles, bit patterns included", () => {
    const buf = new DataView(new ArrayBuffer(8));
    const values: number[] = [];
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    while (values.length < 20_000) {
      buf.setUint32(0, next());
      buf.setUint32(4, next());
      const f = buf.getFloat64(0);
      if (Number.isFinite(f)) values.push(f);
      values.push(next() / 7, (next() % 100000) / 1000, next() * 1e12);
    }
    expect(rs.canonicalize(values)).toBe(ts.canonicalize(values));
  });

  it("agrees where JSON.stringify and RFC 8785 differ", () => {
    const odd: unknown[] = [
      { big: 12345678901234567890n },
      ["lone \ud800 surrogate"],
      { d: new Date(0), u: undefined, f: () => 1 },
      [undefined, () => 1],
      { "\ud800": 1, "😀": 2, ﬁ: 3, 'a"': 4, "\n": 5, z: { b: [{ d: 1, c: 2 }], a: 2 }, "10": 0, "9": 1 },
    ];
    for (const v of odd) expect(rs.canonicalize(v)).toBe(ts.canonicalize(v));
    expect(() => rs.canonicalize(undefined)).toThrow();
    expect(() => ts.canonicalize(undefined)).toThrow();
  });
});
