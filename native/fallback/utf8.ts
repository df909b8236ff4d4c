/**
 * UTF-16 ↔ UTF-8 position bookkeeping shared by the sanitizer and the redactor: spans are UTF-8
 * byte offsets in both cores, while JS strings index UTF-16 code units. A lone surrogate counts
 * three bytes, as the replacement encoding the Rust core sees for it.
 */

/** Code units and UTF-8 bytes of the character starting at index `i` of `text`. */
export function stepAt(text: string, i: number): { units: number; bytes: number } {
  const c = text.charCodeAt(i);
  if (c < 0x80) return { units: 1, bytes: 1 };
  if (c < 0x800) return { units: 1, bytes: 2 };
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return { units: 2, bytes: 4 };
  }
  return { units: 1, bytes: 3 };
}

/** UTF-8 byte offset of each given UTF-16 index (any order, duplicates allowed). */
export function utf8Offsets(text: string, indices: number[]): Map<number, number> {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const map = new Map<number, number>();
  let bytes = 0;
  let i = 0;
  for (const target of sorted) {
    while (i < target) {
      const s = stepAt(text, i);
      bytes += s.bytes;
      i += s.units;
    }
    map.set(target, bytes);
  }
  return map;
}

/** UTF-16 index of each ascending UTF-8 byte offset. */
export function utf16Indices(text: string, offsets: number[]): number[] {
  const out: number[] = [];
  let bytes = 0;
  let i = 0;
  for (const target of offsets) {
    while (bytes < target && i < text.length) {
      const s = stepAt(text, i);
      bytes += s.bytes;
      i += s.units;
    }
    out.push(i);
  }
  return out;
}
