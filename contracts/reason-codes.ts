/**
 * The reason-code registry: every code a policy, the pipeline or an adapter may put in `reasons`
 * is listed once, with a description, in `reason-codes.json`. A policy that emits an unregistered
 * code fails its tests; the pipeline maps an unregistered code to POLICY_ERROR (fail closed).
 */
import { ReasonCodeString } from "./common.js";
import registry from "./reason-codes.json" with { type: "json" };

function loadRegistry(): Readonly<Record<string, string>> {
  const codes: unknown = (registry as { codes?: unknown }).codes;
  if (codes === null || typeof codes !== "object" || Array.isArray(codes)) {
    throw new Error('contracts/reason-codes.json: expected {"codes": {CODE: description}}');
  }
  for (const [code, description] of Object.entries(codes)) {
    if (!ReasonCodeString.safeParse(code).success) {
      throw new Error(`contracts/reason-codes.json: reason code ${JSON.stringify(code)} is not UPPER_SNAKE`);
    }
    if (typeof description !== "string" || description.length === 0) {
      throw new Error(`contracts/reason-codes.json: reason code ${code} needs a non-empty description`);
    }
  }
  return Object.freeze({ ...(codes as Record<string, string>) });
}

/** Registered reason codes → description. */
export const REASON_CODES: Readonly<Record<string, string>> = loadRegistry();

/** True when `code` is in the registry. */
export function isRegisteredReasonCode(code: string): boolean {
  return Object.hasOwn(REASON_CODES, code);
}
