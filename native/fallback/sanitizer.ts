/**
 * TypeScript fallback of the sanitizer. It reads the same detector table as the Rust core and
 * follows the same steps: keyword prefilter (ASCII case-insensitive), regex over the text,
 * validators on the UTF-8 bytes of the span, overlap resolution by table order. JS regexes see
 * UTF-16 while Rust sees bytes; the patterns only use ASCII classes, so both find the same
 * matches and the UTF-16 indices are converted to UTF-8 byte offsets here.
 */
import table from "../core/src/sanitizer/detectors.json" with { type: "json" };
import type { DetectorSpec, Finding } from "../sanitizer-types.js";
import { provablyClean } from "./sanitizer-clean.js";
import { checkSpan, shannonEntropy } from "./sanitizer-validate.js";
import { utf8Offsets } from "./utf8.js";

interface CompiledDetector {
  spec: DetectorSpec;
  regex: RegExp;
  keywords: string[];
}

const detectors: CompiledDetector[] = (table.detectors as DetectorSpec[]).map((spec) => ({
  spec,
  regex: new RegExp(spec.pattern, `g${spec.caseInsensitive ? "i" : ""}${spec.group ? "d" : ""}`),
  keywords: spec.keywords.map((k) => k.toLowerCase()),
}));

/** Number of detectors in the table. */
export const detectorCount = detectors.length;

const NON_ASCII = /[^\x00-\x7f]/;

interface RawFinding {
  order: number;
  start: number;
  end: number;
  spec: DetectorSpec;
}

/** Findings in a text, ordered by start offset, without overlaps. */
export function scanText(text: string): Finding[] {
  const lower = text.toLowerCase();
  const raw: RawFinding[] = [];
  for (let order = 0; order < detectors.length; order++) {
    const det = detectors[order] as CompiledDetector;
    if (det.keywords.length > 0 && !det.keywords.some((k) => lower.includes(k))) continue;
    const re = det.regex;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0].length === 0) re.lastIndex++;
      let start = m.index;
      let end = m.index + m[0].length;
      if (det.spec.group) {
        const g = m.indices?.[1];
        if (!g) continue;
        [start, end] = g;
      }
      raw.push({ order, start, end, spec: det.spec });
    }
  }
  if (raw.length === 0) return [];
  const ascii = !NON_ASCII.test(text);
  const offsets = ascii
    ? null
    : utf8Offsets(
        text,
        raw.flatMap((r) => [r.start, r.end]),
      );
  const accepted: (RawFinding & { bstart: number; bend: number })[] = [];
  for (const r of raw) {
    const span = Buffer.from(text.slice(r.start, r.end), "utf8");
    if (r.spec.minEntropy !== undefined && shannonEntropy(span) < r.spec.minEntropy) continue;
    if (r.spec.validate !== undefined && !checkSpan(r.spec.validate, span)) continue;
    const bstart = offsets ? (offsets.get(r.start) as number) : r.start;
    const bend = offsets ? (offsets.get(r.end) as number) : r.end;
    accepted.push({ ...r, bstart, bend });
  }
  return resolveOverlaps(accepted);
}

/** Table order first (secrets before personal data), then earlier, then longer; no overlaps. */
function resolveOverlaps(found: (RawFinding & { bstart: number; bend: number })[]): Finding[] {
  found.sort((a, b) => a.order - b.order || a.bstart - b.bstart || b.bend - a.bend);
  const kept: Finding[] = [];
  for (const f of found) {
    // kept is sorted by start; the last one starting before our end is the only possible clash.
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((kept[mid] as Finding).start < f.bend) lo = mid + 1;
      else hi = mid;
    }
    const prev = kept[lo - 1];
    if (prev && prev.end > f.bstart) continue;
    kept.splice(lo, 0, {
      class: f.spec.class,
      detector: f.spec.id,
      start: f.bstart,
      end: f.bend,
      confidence: f.spec.confidence,
    });
  }
  return kept;
}

/** Appends `.key` for identifier-like keys, else `["key"]`. */
export function memberPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Findings in every string of a JSON value, with paths, in document order. */
export function scanValue(value: unknown): Finding[] {
  if (provablyClean(value)) return [];
  const out: Finding[] = [];
  const walk = (v: unknown, path: string): void => {
    if (typeof v === "string") {
      for (const f of scanText(v))
        out.push({
          class: f.class,
          detector: f.detector,
          path,
          start: f.start,
          end: f.end,
          confidence: f.confidence,
        });
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i], `${path}[${i}]`);
    } else if (v !== null && typeof v === "object") {
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) walk(item, memberPath(path, k));
    }
  };
  walk(value, "$");
  return out;
}
