/**
 * Key of the decision cache: the JSON text the engine would evaluate, minus the two fields that
 * differ on every call (`context.time`, `context.request_id`), which the default policy never
 * reads (a policy that reads them must answer `cacheable: false`). Keying on exactly the text the
 * policy sees means two inputs share a key only if the policy cannot tell them apart; keys over
 * 1 KiB are replaced by their sha256 to bound the cache's memory. Each bundle revision has its own
 * cache, so the revision is part of the key by construction (see README.md for why this is not a
 * canonical RFC 8785 hash: that costs ~10 µs per lookup, ten times the cache-hit budget).
 * `decisionTexts` renders the evaluation text and the key together, serialising the bulk of the
 * input (arguments, target, principal) once: both are that text with `context` as the last member.
 */
import { createHash } from "node:crypto";
import type { PolicyInput } from "../contracts/index.js";

const HASH_ABOVE = 1024;

function bounded(text: string): string {
  return text.length > HASH_ABOVE ? `#${createHash("sha256").update(text).digest("base64")}` : text;
}

/** The evaluation text of an input and its cache key, from one serialisation of the input's body. */
export function decisionTexts(input: PolicyInput): { text: string; key: string } {
  const context = input.context as Record<string, unknown> | undefined;
  if (!context || typeof context !== "object" || Array.isArray(context)) {
    const text = JSON.stringify(input);
    return { text, key: bounded(text) };
  }
  const { context: _context, ...body } = input as PolicyInput & Record<string, unknown>;
  const { time: _time, request_id: _requestId, ...stable } = context;
  const head = JSON.stringify(body);
  // `head` is "{...}": reopen it and append the context member last.
  const open = head.length > 2 ? `${head.slice(0, -1)},"context":` : `{"context":`;
  return {
    text: `${open}${JSON.stringify(context)}}`,
    key: bounded(`${open}${JSON.stringify(stable)}}`),
  };
}

export function decisionCacheKey(input: PolicyInput): string {
  return decisionTexts(input).key;
}
