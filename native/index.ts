/**
 * Entry point of the native core for the rest of the code base. Every export here has one
 * behaviour whether it runs on the Rust addon or on the TypeScript fallback; the loader picks
 * native unless PORTCULLIS_NATIVE=0 and warns once when it falls back.
 */
export { canonicalize, digest, sha256Hex } from "./fallback/canonical.js";
