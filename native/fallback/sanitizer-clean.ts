/**
 * A proof, in a few hundred nanoseconds, that a small JSON value holds no sanitizer finding, so a
 * tool call's arguments like `{message: "m123"}` skip the scan (and the crossing into the addon)
 * entirely. It answers `true` only where the detector table rules every finding out: every keyword
 * detector's match contains one of its keywords (ASCII case-insensitive), and each detector without
 * keywords needs a byte shape (its `anchor` in `detectors.json`) that the checks below exclude:
 * `@` (email), `:` (IPv6), 4+ digits with 3+ dots (IPv4), 6+ digits (a phone number needs 8, a
 * card number 13), and for IBAN two upper-case letters followed by two digits. Anything else
 * (non-ASCII or control characters, long strings, many strings, objects that are not plain)
 * answers `false`, and the caller scans as before: the answer never changes findings, only skips a
 * scan that finds nothing.
 */
import table from "../core/src/sanitizer/detectors.json" with { type: "json" };

/** Strings longer than this are scanned: the proof's cost should stay far below a scan's. */
const MAX_STRING = 256;
/** Values with more strings or containers than this are scanned. */
const MAX_NODES = 32;

const literal = (k: string) => k.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/** Any keyword of any detector, ASCII case-insensitive (the strings tested are printable ASCII). */
const KEYWORD = new RegExp(
  [...new Set(table.detectors.flatMap((d) => d.keywords.map((k) => k.toLowerCase())))].map(literal).join("|"),
  "i",
);
const IBAN_PREFIX = /[A-Z]{2}[0-9]{2}/;

/** Every detector without keywords must have an anchor this module knows how to exclude. */
const KNOWN_ANCHORS = new Set(["at", "cardDigits", "ibanPrefix", "phoneGroups", "dottedQuad", "hexColon"]);
for (const d of table.detectors as { id: string; keywords: string[]; anchor?: string }[]) {
  if (d.keywords.length === 0 && (d.anchor === undefined || !KNOWN_ANCHORS.has(d.anchor))) {
    throw new Error(`sanitizer-clean: detector ${d.id} has neither keywords nor a known anchor`);
  }
}

/** True when the text provably yields no finding on either core. */
export function cleanText(s: string): boolean {
  if (s.length > MAX_STRING) return false;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Printable ASCII only; '@' (64) and ':' (58) are anchors.
    if (c < 0x20 || c > 0x7e || c === 64 || c === 58) return false;
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46) dots++;
  }
  // A dotted quad needs 4 digits and 3 dots; a phone number 8 digits (6 kept as the margin).
  if (digits >= 6 || (digits >= 4 && dots >= 3)) return false;
  if (digits >= 2 && IBAN_PREFIX.test(s)) return false;
  return !KEYWORD.test(s);
}

/**
 * True when every string in the value provably yields no finding (so `scanValue` is `[]`); false
 * means "not proven", never "has a finding". Only plain objects, arrays and primitives are
 * walked; keys are not scanned by either core, so only string values are tested.
 */
export function provablyClean(value: unknown): boolean {
  let budget = MAX_NODES;
  const walk = (v: unknown): boolean => {
    if (typeof v === "string") return --budget >= 0 && cleanText(v);
    if (typeof v !== "object" || v === null)
      return typeof v === "number" || typeof v === "boolean" || v === null;
    if (--budget < 0) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (!walk(v[i])) return false;
      return true;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return false;
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
    for (const key in v) {
      if (!Object.hasOwn(v, key)) return false;
      if (!walk((v as Record<string, unknown>)[key])) return false;
    }
    return true;
  };
  return walk(value);
}
