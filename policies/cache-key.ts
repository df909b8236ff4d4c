/**
 * Key of the decision cache: the JSON text the engine would evaluate, minus the two fields that
 * differ on every call (`context.time`, `context.request_id`), which the default policy never
 * reads (a policy that reads them must answer `cacheable: false`). Keying on exactly the text the
 * policy sees means two inputs share a key only if the policy cannot tell them apart; keys over
 * 1 KiB are replaced by their sha256 to bound the cache's memory. Each bundle revision has its own
 * cache, so the revision is part of the key by construction (see README.md for why this is not a
 * canonical RFC 8785 hash: that costs ~10 µs per lookup, ten times the cache-hit budget).
 */
import { createHash } from "node:crypto";
import type { PolicyInput } from "../contracts/index.js";

const HASH_ABOVE = 1024;

export function decisionCacheKey(input: PolicyInput): string {
  const context = input.context as Record<string, unknown> | undefined;
  let text: string;
  if (context && typeof context === "object") {
    const { time: _time, request_id: _requestId, ...stable } = context;
    text = JSON.stringify({ ...input, context: stable });
  } else {
    text = JSON.stringify(input);
  }
  return text.length > HASH_ABOVE ? `#${createHash("sha256").update(text).digest("base64")}` : text;
}
