/**
 * Key of the decision cache: the RFC 8785 canonical hash of the input without the two fields
 * that differ on every call (`context.time`, `context.request_id`), which the default policy
 * never reads. A policy that does read them must answer `cacheable: false`. Each bundle revision
 * has its own cache, so the revision is part of the key by construction (see README.md).
 */
import type { PolicyInput } from "../contracts/index.js";
import { digest } from "../native/index.js";

export function decisionCacheKey(input: PolicyInput): string {
  const context = input.context as Record<string, unknown> | undefined;
  if (!context || typeof context !== "object") return digest(input);
  const { time: _time, request_id: _requestId, ...stable } = context;
  return digest({ ...input, context: stable });
}
