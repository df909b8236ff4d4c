/**
 * Types of the sanitizer shared by both cores and the redaction layer.
 */

/** One thing the sanitizer found. Offsets are UTF-8 byte offsets into the scanned string. */
export interface Finding {
  /** Data class: "secret", "email", "phone", "payment_card", "iban", "ip_address". */
  class: string;
  /** Detector id from the detector table, e.g. "github_pat_classic". */
  detector: string;
  /** JSONPath-like location inside a scanned value (`$.a[0]["b c"]`); absent for plain text. */
  path?: string;
  start: number;
  end: number;
  confidence: number;
}

/** One row of native/core/src/sanitizer/detectors.json. */
export interface DetectorSpec {
  id: string;
  class: string;
  keywords: string[];
  pattern: string;
  confidence: number;
  group?: boolean;
  caseInsensitive?: boolean;
  validate?: string;
  minEntropy?: number;
}

/** What redaction does with a finding (see native/core/src/redact.rs). */
export type RedactAction = "mask" | "hash" | "drop" | "reversible";

export interface RedactOptions {
  action: RedactAction;
  /** Data classes to redact; absent or empty means every class. */
  classes?: string[];
  /** Key of the `hash` action (HMAC-SHA256); plain sha256 without one. */
  key?: string;
}

/** A redacted value, the findings acted on (with paths) and the restore mapping of `reversible`. */
export interface Redaction {
  value: unknown;
  findings: Finding[];
  /** Placeholder → original; only for `reversible`. */
  mapping?: Record<string, string>;
}
