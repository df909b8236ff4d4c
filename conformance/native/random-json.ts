/**
 * Seeded random JSON values for the canonical-text tests: objects with members in random order,
 * arrays, and the strings and numbers canonicalisation gets wrong most easily (escapes, line
 * separators, astral characters, -0, exponents, long fractions).
 */
const STRINGS = ["", "a", "é", "\u2028", "\ud83d\ude00", '"q"', "\\", "\n\t", "10", "Z", "z", "_"];
const NUMBERS = [0, -0, 1.5, 1e21, 1e-7, -42, 2 ** 53, 0.16836999999941327];

/** A random JSON value; `depth` above 2 gives only scalars, so values stay small. */
export function randomJson(rnd: () => number, depth: number): unknown {
  const pick = Math.floor(rnd() * (depth > 2 ? 5 : 8));
  switch (pick) {
    case 0:
      return STRINGS[Math.floor(rnd() * STRINGS.length)];
    case 1:
      return NUMBERS[Math.floor(rnd() * NUMBERS.length)];
    case 2:
      return rnd() < 0.5;
    case 3:
      return null;
    case 4:
      return `s${Math.floor(rnd() * 1000)}`;
    case 5:
      return Array.from({ length: Math.floor(rnd() * 4) }, () => randomJson(rnd, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      const n = Math.floor(rnd() * 5);
      for (let i = 0; i < n; i++)
        obj[STRINGS[Math.floor(rnd() * STRINGS.length)]!] = randomJson(rnd, depth + 1);
      return obj;
    }
  }
}
