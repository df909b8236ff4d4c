/**
 * Wraps the Rust addon into a `NativeCore`. Values cross the boundary as JSON text (V8's
 * JSON.stringify is the fastest way out of the JS heap); where JSON.stringify and RFC 8785
 * disagree (BigInt, lone surrogates, a top-level undefined) the TypeScript fallback answers, so
 * the result is the same whichever core runs.
 */
import { AddonVectorIndex } from "./addon-vector.js";
import type { NativeBinding, NativeFileRange } from "./binding.js";
import table from "./core/src/sanitizer/detectors.json" with { type: "json" };
import type { NativeCore } from "./core-api.js";
import * as canonical from "./fallback/canonical.js";
import * as files from "./fallback/files.js";
import * as redact from "./fallback/redact.js";
import * as sanitizer from "./fallback/sanitizer.js";
import { provablyClean } from "./fallback/sanitizer-clean.js";
import * as search from "./fallback/search.js";
import type { ListResult } from "./files-types.js";
import type { Finding, Redaction, RedactOptions } from "./sanitizer-types.js";
import { toRustPattern } from "./search-pattern.js";
import type { FileSearchRequest, FileSearchResult } from "./search-types.js";

function refuseNonFinite(_key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new TypeError(`canonical JSON cannot represent ${value}`);
  }
  return value;
}

/**
 * JSON text for the addon, or undefined when only the fallback can say what happens. The text
 * comes from a plain JSON.stringify (a replacer function takes V8 off its fast serialiser); as
 * JSON.stringify writes NaN and ±Infinity as `null`, only a text containing `null` can hide one,
 * and only such a text is serialised again with the checking replacer.
 */
export function jsonForNative(value: unknown): string | undefined {
  let text: string | undefined;
  try {
    text = JSON.stringify(value) as string | undefined;
  } catch {
    return undefined;
  }
  if (typeof text !== "string") return undefined;
  if (text.includes("null")) {
    try {
      JSON.stringify(value, refuseNonFinite);
    } catch (e) {
      if (e instanceof TypeError && e.message.startsWith("canonical JSON")) throw e;
      return undefined;
    }
  }
  return text;
}

/** JSON text of a value to scan; undefined when it has none the addon can parse. */
function valueText(value: unknown): string | undefined {
  try {
    const text = JSON.stringify(value) as string | undefined;
    return typeof text === "string" ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Options as the addon reads them (checked first, so both cores refuse the same ones). */
function redactOptionsText(opts: RedactOptions): string {
  redact.checkRedactOptions(opts);
  return JSON.stringify({ action: opts.action, classes: opts.classes, key: opts.key });
}

/** Runs a search on the addon, or on the fallback when the pattern has no exact Rust form. */
async function nativeSearch(
  binding: NativeBinding,
  req: FileSearchRequest,
  signal?: AbortSignal,
): Promise<FileSearchResult> {
  const pattern = toRustPattern(req.pattern, req.caseInsensitive);
  if (pattern === undefined || binding.searchPatternError(pattern) !== null) {
    return search.searchFiles(req, () => signal?.aborted === true);
  }
  const run = new binding.NativeFileSearch();
  const onAbort = () => run.cancel();
  if (signal?.aborted) run.cancel();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const { caseInsensitive: _ci, ...rest } = req;
    return JSON.parse(await run.run(JSON.stringify({ ...rest, pattern }))) as FileSearchResult;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

const DETECTORS = table.detectors;

/** Finding objects from packed `[detector index, start, end]` triples, in the Rust field order. */
function unpack(packed: Uint32Array): Finding[] {
  const out: Finding[] = new Array(packed.length / 3);
  for (let i = 0, j = 0; i < packed.length; i += 3, j++) {
    const d = DETECTORS[packed[i] as number];
    if (d === undefined) throw new Error("native sanitizer returned an unknown detector index");
    out[j] = {
      class: d.class,
      detector: d.id,
      start: packed[i + 1] as number,
      end: packed[i + 2] as number,
      confidence: d.confidence,
    };
  }
  return out;
}

/** The native core backed by the addon. */
export function createAddonCore(binding: NativeBinding): NativeCore {
  return {
    implementation: "native",
    canonicalize(value) {
      // Values in canonical order: JSON.stringify is the canonical text (non-finite numbers
      // excluded by a walk, not by a second stringify). Unordered ones cross: a sorted copy in JS
      // costs as much as the crossing (echo result, cold caches: 4.0 vs 3.7 µs).
      const quick = canonical.jsCanonical(value, canonical.QUICK_NODES, false);
      if (quick !== undefined) return quick;
      const text = jsonForNative(value);
      if (text === undefined) return canonical.canonicalize(value);
      try {
        return binding.canonicalizeStringified(text);
      } catch {
        return canonical.canonicalize(value);
      }
    },
    // Strings are hashed by node's one-shot crypto.hash: the same OpenSSL digest without the UTF-8
    // copy across napi (a 700-byte audit record: 1.2 -> 0.96 µs). Bytes go to the addon as before.
    sha256Hex: (data) => (typeof data === "string" ? canonical.sha256Hex(data) : binding.sha256Hex(data)),
    digest(value) {
      const quick = canonical.jsCanonical(value, canonical.QUICK_NODES, false);
      if (quick !== undefined) return canonical.sha256Hex(quick);
      const text = jsonForNative(value);
      if (text === undefined) return canonical.digest(value);
      try {
        return binding.digestStringified(text);
      } catch {
        return canonical.digest(value);
      }
    },
    scanText: (text) => unpack(binding.scanTextPacked(text)),
    scanValue(value) {
      // A small value whose strings provably hold nothing is not sent across (one call's
      // arguments: ~7 µs of napi crossing, JSON and cold caches in the gateway, 0.2 µs here).
      if (provablyClean(value)) return [];
      const text = valueText(value);
      if (text === undefined) return sanitizer.scanValue(value);
      try {
        const found = binding.scanValueJson(text);
        return found === "[]" ? [] : (JSON.parse(found) as Finding[]);
      } catch {
        // A lone surrogate cannot cross into Rust unchanged; the fallback scans such values.
        return sanitizer.scanValue(value);
      }
    },
    scanTextAsync: async (text) => unpack(await binding.scanTextPackedAsync(text)),
    async scanValueAsync(value) {
      if (provablyClean(value)) return [];
      const text = valueText(value);
      if (text === undefined) return sanitizer.scanValue(value);
      try {
        return JSON.parse(await binding.scanValueJsonAsync(text)) as Finding[];
      } catch {
        return sanitizer.scanValue(value);
      }
    },
    redactValue(value, opts) {
      const options = redactOptionsText(opts);
      const text = valueText(value);
      if (text === undefined) return redact.redactValue(value, opts);
      try {
        return JSON.parse(binding.redactValueJson(text, options)) as Redaction;
      } catch {
        // Lone surrogates do not survive the trip into Rust; the fallback redacts such values.
        return redact.redactValue(value, opts);
      }
    },
    async redactValueAsync(value, opts) {
      const options = redactOptionsText(opts);
      const text = valueText(value);
      if (text === undefined) return redact.redactValue(value, opts);
      try {
        return JSON.parse(await binding.redactValueJsonAsync(text, options)) as Redaction;
      } catch {
        return redact.redactValue(value, opts);
      }
    },
    searchFiles: (req, signal) => nativeSearch(binding, req, signal),
    async listFiles(req) {
      try {
        return JSON.parse(await binding.listFilesAsync(JSON.stringify(req))) as ListResult;
      } catch {
        // An I/O error (permissions, a racing delete): the fallback meets it and says what it is.
        return files.listFiles(req);
      }
    },
    async readFile(req) {
      let r: NativeFileRange;
      try {
        r = await binding.readFileAsync(req.path, req.offset, req.want);
      } catch {
        return files.readFile(req);
      }
      const base = { size: r.size, bytes: r.bytes, truncated: r.truncated, binary: r.binary };
      return typeof r.text === "string" ? { ...base, text: r.text } : base;
    },
    createVectorIndex(dims, metric, embedding) {
      AddonVectorIndex.check(dims, metric);
      return new AddonVectorIndex(new binding.NativeVectorIndex(dims, metric, embedding));
    },
    vectorIndexFromBuffer(bytes) {
      try {
        return new AddonVectorIndex(binding.NativeVectorIndex.fromBuffer(bytes));
      } catch (e) {
        throw e instanceof Error ? new RangeError(e.message) : e;
      }
    },
  };
}
