/**
 * One entry point to validate a contract document by its type name, from a parsed value or from
 * JSON text. The JSON-text path is the one the conformance suite compares with the Rust checker:
 * both parse with "last duplicate member wins" and then apply the same schema.
 */
import type { z } from "zod";
import { ProviderConfig, RedactionPolicy, Route } from "./model-routing.js";
import { PolicyDecision, PolicyInput } from "./policy-decision.js";
import { AuditEnvelope, ToolCallRequest, ToolCallResult } from "./tool-execution.js";
import { SessionEvent } from "./workspace-session.js";

/** Every contract document type, by name (the names of `contracts/schema/<name>.json`). */
export const CONTRACT_DOCUMENTS = {
  ToolCallRequest,
  ToolCallResult,
  AuditEnvelope,
  ProviderConfig,
  Route,
  RedactionPolicy,
  SessionEvent,
  PolicyInput,
  PolicyDecision,
} as const satisfies Record<string, z.ZodType>;

export type ContractDocumentType = keyof typeof CONTRACT_DOCUMENTS;

/** Which of the four contracts each document type belongs to. */
export const CONTRACT_OF: Readonly<Record<ContractDocumentType, string>> = {
  ToolCallRequest: "tool-execution",
  ToolCallResult: "tool-execution",
  AuditEnvelope: "tool-execution",
  ProviderConfig: "model-routing",
  Route: "model-routing",
  RedactionPolicy: "model-routing",
  SessionEvent: "workspace-session",
  PolicyInput: "policy-decision",
  PolicyDecision: "policy-decision",
};

export function isContractDocumentType(name: string): name is ContractDocumentType {
  return Object.hasOwn(CONTRACT_DOCUMENTS, name);
}

export type ContractValidation = { valid: true } | { valid: false; error: string };

/** Validates an already parsed value against the named document type. */
export function validateContract(type: ContractDocumentType, value: unknown): ContractValidation {
  const r = CONTRACT_DOCUMENTS[type].safeParse(value);
  if (r.success) return { valid: true };
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "(document)";
  return { valid: false, error: `${type}: ${where}: ${issue?.message ?? "invalid"}` };
}

/** Parses JSON text and validates it; a syntax error is an invalid document. */
export function validateContractJson(type: ContractDocumentType, text: string): ContractValidation {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { valid: false, error: `${type}: not JSON: ${(err as Error).message}` };
  }
  return validateContract(type, value);
}
