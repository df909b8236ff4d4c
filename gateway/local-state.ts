/**
 * The gateway's local state for one configuration, opened in one place: the audit log (in
 * `audit.dir`), the pin lock (`portcullis.lock` beside the config), the approval store and the
 * session event bus. `auditPort.append` is the pre-execution append of the configured sync mode,
 * which is what the pipeline must await before it executes a call.
 */
import { resolve } from "node:path";
import type { AuditEntry, AuditEnvelope } from "../contracts/index.js";
import { type ApprovalStore, InMemoryApprovalStore } from "./approvals/index.js";
import { AuditLog } from "./audit/index.js";
import { type Clock, systemClock } from "./clock.js";
import type { PortcullisConfig } from "./config/schema.js";
import { SessionEventBus } from "./events/index.js";
import { lockPathFor, PinStore } from "./pins/index.js";

export interface LocalState {
  audit: AuditLog;
  /** `append` = `audit.appendDecision`: written (sync "group") or fsync'd (sync "always"). */
  auditPort: { append(entry: AuditEntry): Promise<AuditEnvelope> };
  pins: PinStore;
  approvals: ApprovalStore;
  events: SessionEventBus;
  /** Makes the audit log durable and releases it. */
  close(): Promise<void>;
}

/** Opens the audit log of an `audit` config section, its folder relative to `baseDir`. */
export function openAuditLog(
  audit: PortcullisConfig["audit"],
  baseDir: string,
  clock: Clock = systemClock,
): AuditLog {
  return AuditLog.open({
    dir: resolve(baseDir, audit.dir),
    sync: audit.sync,
    segmentBytes: audit.segmentBytes,
    groupCommitMs: audit.groupCommitMs,
    clock,
  });
}

/** Opens the local state of `config`, whose relative paths resolve against `baseDir`. */
export function openLocalState(
  config: PortcullisConfig,
  baseDir: string,
  opts: { clock?: Clock } = {},
): LocalState {
  const clock = opts.clock ?? systemClock;
  const pins = PinStore.open(lockPathFor(baseDir), { clock });
  const audit = openAuditLog(config.audit, baseDir, clock);
  return {
    audit,
    auditPort: { append: (entry) => audit.appendDecision(entry) },
    pins,
    approvals: new InMemoryApprovalStore({ clock }),
    events: new SessionEventBus({ clock }),
    close: () => audit.close(),
  };
}
