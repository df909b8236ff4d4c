/**
 * A seeded source of random numbers in [0, 1) — mulberry32: small, fast and the same sequence on
 * every machine. The gateway draws from `Math.random` in production; tests, benchmarks and the
 * policy parity corpus inject this one so their draws are reproducible.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
