/**
 * The four frozen shared interfaces of Portcullis, as zod schemas with their inferred types:
 * tool execution, model routing, workspace session and policy decision, plus the reason-code
 * registry. Every document carries `v: 1`; fields are only added, never renamed. JSON Schemas
 * generated from these live in `contracts/schema/`; the Rust mirror is in `native/core`.
 */
export * from "./common.js";
export * from "./model-routing.js";
export * from "./policy-decision.js";
export * from "./reason-codes.js";
export * from "./tool-execution.js";
export * from "./validate.js";
export * from "./workspace-session.js";
