/**
 * Tamper-evident audit log: segmented JSONL, one hash-chained AuditEnvelope a line, made durable
 * by group-commit fsync. `AuditLog` appends, `verifyAudit` checks a folder; see README.md.
 */
export { type AuditEntry, type AuditEnvelope, type AuditKind, GENESIS_HASH } from "./envelope.js";
export { AuditLog, type AuditLogOptions, type AuditSyncMode, auditChannel } from "./log.js";
export { listSegments, segmentName } from "./segments.js";
export {
  type AuditAnchor,
  type AuditVerification,
  type BadRecord,
  type TamperKind,
  verifyAudit,
} from "./verify.js";
