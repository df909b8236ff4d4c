/**
 * The TypeScript fallback of the native core: the same functions as the Rust addon, with the
 * same outputs, for machines without the addon and for `PORTCULLIS_NATIVE=0`.
 */
import type { NativeCore } from "../core-api.js";
import { canonicalize, digest, sha256Hex } from "./canonical.js";
import { listFiles, readFile } from "./files.js";
import { redactValue } from "./redact.js";
import { scanText, scanValue } from "./sanitizer.js";
import { searchFiles } from "./search.js";
import { VectorIndex } from "./vector.js";

/** The fallback core. */
export const fallbackCore: NativeCore = {
  implementation: "fallback",
  canonicalize,
  sha256Hex,
  digest,
  scanText,
  scanValue,
  scanTextAsync: async (text) => scanText(text),
  scanValueAsync: async (value) => scanValue(value),
  redactValue,
  redactValueAsync: async (value, opts) => redactValue(value, opts),
  createVectorIndex: (dims, metric, embedding) => new VectorIndex(dims, metric, embedding),
  searchFiles: async (req, signal) => searchFiles(req, () => signal?.aborted === true),
  listFiles: async (req) => listFiles(req),
  readFile: async (req) => readFile(req),
  vectorIndexFromBuffer: (bytes) =>
    VectorIndex.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
};
