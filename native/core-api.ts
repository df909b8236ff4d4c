/**
 * The one interface both implementations of the native core satisfy: the Rust addon wrapped by
 * `addon.ts` and the TypeScript fallback in `fallback/`. `native/index.ts` picks one at load
 * time; the parity suite in conformance/native/ builds both explicitly and compares outputs.
 */

export interface NativeCore {
  readonly implementation: "native" | "fallback";
  /** RFC 8785 canonical JSON text of a JSON-compatible value. */
  canonicalize(value: unknown): string;
  /** Lower-case hex sha256 of a string (UTF-8) or bytes. */
  sha256Hex(data: string | Uint8Array): string;
  /** sha256 of the canonical JSON of a value. */
  digest(value: unknown): string;
}
