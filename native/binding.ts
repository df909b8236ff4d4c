/**
 * Shape of the napi addon (`native/portcullis.node`) as seen from TypeScript. Names follow
 * napi-rs's camelCase conversion of the Rust functions in `native/napi/src/`. Keep this file in
 * step with the binding crate; the loader refuses an addon that lacks a required export.
 */

export interface NativeBinding {
  coreVersion(): string;
  canonicalizeJson(text: string): string;
  digestJson(text: string): string;
  sha256Hex(data: string | Uint8Array): string;
  /** Findings in a text, as JSON text. */
  scanText(text: string): string;
  /** Findings in every string of a JSON document (given as text), as JSON text. */
  scanValueJson(json: string): string;
  scanTextAsync(text: string): Promise<string>;
  scanValueJsonAsync(json: string): Promise<string>;
  /** `{value, findings, mapping?}` of a JSON document redacted per options (both JSON text). */
  redactValueJson(json: string, options: string): string;
  redactValueJsonAsync(json: string, options: string): Promise<string>;
}
