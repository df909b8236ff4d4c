/**
 * Builds the real services a runtime needs from a loaded configuration: the policy decision
 * service, the audit log, approvals, tool pins (`portcullis.lock` beside the config), the session
 * event bus, and the built-in capabilities with the native sanitizer. Relative paths resolve
 * against the config's folder. `close()` releases them in reverse order.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createBuiltinCapabilities } from "../adapters/native/index.js";
import { type ApprovalStore, InMemoryApprovalStore } from "../gateway/approvals/index.js";
import { AuditLog } from "../gateway/audit/index.js";
import type { PortcullisConfig } from "../gateway/config/schema.js";
import { ConfigError } from "../gateway/errors.js";
import { SessionEventBus } from "../gateway/events/index.js";
import { lockPathFor, PinStore } from "../gateway/pins/index.js";
import type { AuditPort, DecisionPort, EventPort, PinPort } from "../gateway/pipeline/context.js";
import { core } from "../native/index.js";
import { createDecisionService } from "../policies/service.js";
import type { RuntimeServices } from "./runtime.js";

export interface ServiceOverrides {
  /** Policy data replacing the bundle's data.json (tests, conformance). */
  policyData?: unknown;
  audit?: Partial<PortcullisConfig["audit"]>;
}

export interface GatewayServices extends RuntimeServices {
  bus: SessionEventBus;
  /** The approvals store itself (the pipeline sees it as its port; the REST API lists and answers). */
  approvalStore: ApprovalStore;
  auditLog: AuditLog;
}

export async function createServices(
  config: PortcullisConfig,
  baseDir: string,
  overrides: ServiceOverrides = {},
): Promise<GatewayServices> {
  let data = overrides.policyData;
  if (data === undefined && config.policy.data) {
    const file = resolve(baseDir, config.policy.data);
    try {
      data = readFileSync(file, "utf8");
    } catch (e) {
      throw new ConfigError(
        `policy.data: cannot read ${config.policy.data} (${(e as NodeJS.ErrnoException).code})`,
      );
    }
  }
  const decisions = await createDecisionService({
    ...(config.policy.bundle ? { bundlePath: resolve(baseDir, config.policy.bundle) } : {}),
    ...(data !== undefined ? { data } : {}),
    engine: config.policy.engine,
    cacheSize: config.policy.cacheSize,
  });
  const auditCfg = { ...config.audit, ...overrides.audit };
  let auditLog: AuditLog;
  try {
    auditLog = AuditLog.open({
      dir: resolve(baseDir, auditCfg.dir),
      sync: auditCfg.sync,
      segmentBytes: auditCfg.segmentBytes,
    });
  } catch (e) {
    await decisions.close();
    throw e;
  }
  const bus = new SessionEventBus();
  const pins = PinStore.open(lockPathFor(baseDir));
  const approvalStore = new InMemoryApprovalStore();
  return {
    decisions: decisions as DecisionPort,
    audit: auditLog as unknown as AuditPort, // AuditEntry is the contract type; AuditRecord matches it field for field.
    auditLog,
    approvals: approvalStore,
    approvalStore,
    pins: pins as PinPort,
    events: bus as unknown as EventPort, // the bus narrows `kind` to the contract's kinds; the pipeline sends only those.
    bus,
    scan: (value) => core.scanValue(value),
    redact: (value, classes) => core.redactValue(value, { action: "mask", classes }).value,
    builtins: createBuiltinCapabilities(config, { baseDir }).servers,
    async close() {
      await auditLog.close();
      await decisions.close();
    },
  };
}
