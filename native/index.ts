/**
 * Entry point of the native core for the rest of the code base. Every export here has one
 * behaviour whether it runs on the Rust addon or on the TypeScript fallback; the loader picks
 * native unless PORTCULLIS_NATIVE=0 and warns once when it falls back.
 */
import { createAddonCore } from "./addon.js";
import type { NativeCore } from "./core-api.js";
import { fallbackCore } from "./fallback/index.js";
import { loadNative } from "./loader.js";

export type { NativeCore } from "./core-api.js";
export type { NativeStatus } from "./loader.js";
export { nativeStatus } from "./loader.js";

const binding = loadNative();

/** The implementation in use. */
export const core: NativeCore = binding ? createAddonCore(binding) : fallbackCore;

/** RFC 8785 canonical JSON text of a JSON-compatible value. */
export const canonicalize: (value: unknown) => string = core.canonicalize;
/** Lower-case hex sha256 of a string (UTF-8) or bytes. */
export const sha256Hex: (data: string | Uint8Array) => string = core.sha256Hex;
/** sha256 of the canonical JSON of a value: the digest used for pins, cache keys and the audit chain. */
export const digest: (value: unknown) => string = core.digest;
/** Sanitizer findings in a text (UTF-8 byte spans). */
export const scanText: NativeCore["scanText"] = core.scanText;
/** Sanitizer findings in every string of a JSON value, with paths. */
export const scanValue: NativeCore["scanValue"] = core.scanValue;
/**
 * Redacts findings of the chosen data classes out of every string of a JSON value:
 * `{action: "mask"|"hash"|"drop"|"reversible", classes?, key?}` → `{value, findings, mapping?}`.
 */
export const redactValue: NativeCore["redactValue"] = core.redactValue;
/** `redactValue` off the JS thread (native); same result. */
export const redactValueAsync: NativeCore["redactValueAsync"] = core.redactValueAsync;
/** Restores the originals of a `reversible` redaction (placeholders → mapping values). */
export { restoreText, restoreValue } from "./fallback/redact.js";
export type { Finding, RedactAction, Redaction, RedactOptions } from "./sanitizer-types.js";
/** An empty f32 vector index of one embedding (native when available). */
export const createVectorIndex: NativeCore["createVectorIndex"] = core.createVectorIndex;
/** A vector index parsed from PCVX v1 bytes (native when available). */
export const vectorIndexFromBuffer: NativeCore["vectorIndexFromBuffer"] = core.vectorIndexFromBuffer;
export type { Metric, VectorHit, VectorStore } from "./vector-types.js";
/** Workspace file search of a resolved request (native, off the JS thread, when available). */
export const searchFiles: NativeCore["searchFiles"] = core.searchFiles;
export type { FileSearchRequest, FileSearchResult, SearchMatch } from "./search-types.js";
/** Workspace listing of a resolved directory (native, off the JS thread, when available). */
export const listFiles: NativeCore["listFiles"] = core.listFiles;
/** A byte range of a resolved regular file (native, off the JS thread, when available). */
export const readFile: NativeCore["readFile"] = core.readFile;
export type { FileRange, ListEntry, ListRequest, ListResult, ReadRequest } from "./files-types.js";
