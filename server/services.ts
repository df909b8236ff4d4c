/**
 * Builds the real services a runtime needs from a loaded configuration: the policy plane (decision
 * service behind a bundle activator, with the configured bundle source, decision logs and status
 * upload live), the audit log, the shared state (`store`: in-process, or Redis for several
 * instances) holding approvals, rate-limit buckets and session events, tool pins
 * (`portcullis.lock` beside the config), and the built-in capabilities with the native sanitizer. Relative paths resolve
 * against the config's folder. `close()` releases them in reverse order.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createBuiltinCapabilities } from "../adapters/native/index.js";
import { type ApprovalStore, SharedApprovalStore } from "../gateway/approvals/index.js";
import type { AuditLog } from "../gateway/audit/index.js";
import type { PortcullisConfig } from "../gateway/config/schema.js";
import { ConfigError } from "../gateway/errors.js";
import { SharedSessionEvents } from "../gateway/events/index.js";
import { openAuditLog } from "../gateway/local-state.js";
import { createModelPlane, type ModelPlane } from "../gateway/models/index.js";
import { createSamplingBridge } from "../gateway/models/sampling.js";
import { lockPathFor, PinStore, SharedPins } from "../gateway/pins/index.js";
import type { AuditPort, DecisionPort, EventPort } from "../gateway/pipeline/context.js";
import {
  rateLimitedDecisions,
  storeGuardedDecisions,
  TokenBucketLimiter,
} from "../gateway/ratelimit/index.js";
import { openStore, type SharedStore } from "../gateway/store/index.js";
import { core } from "../native/index.js";
import { type PolicyPlane, startPolicyPlane } from "../policies/bundle/plane.js";
import { keyFilePath, storedKeyScopes, watchStoredKeys } from "./auth/key-store.js";
import type { RuntimeServices } from "./runtime.js";

export interface ServiceOverrides {
  /** Policy data replacing the bundle's data.json (tests, conformance). */
  policyData?: unknown;
  audit?: Partial<PortcullisConfig["audit"]>;
}

export interface GatewayServices extends RuntimeServices {
  /** Session events over the shared store (SSE on any instance sees events of every instance). */
  bus: SharedSessionEvents;
  /** Shared state: in-process, or Redis with `store` / `--store redis://…` (several instances). */
  store: SharedStore;
  /** The approvals store itself (the pipeline sees it as its port; the REST API lists and answers). */
  approvalStore: ApprovalStore;
  auditLog: AuditLog;
  /** Scopes of the stored API key a bearer token is (undefined: not a stored key, unrestricted). */
  keyScopes: (bearer: string) => string[] | undefined;
  /** Bundle activation, status and decision logs (the REST app mounts the policy admin routes). */
  policy: PolicyPlane;
  /** Model routing (`models` config): the app mounts the model API on it. */
  models: ModelPlane;
}

/**
 * Starts the policy plane; a `policyData` override is handed to it as a data file that exists
 * only while the plane starts (the plane reads `policy.data` once, at start).
 */
async function startPlane(config: PortcullisConfig, baseDir: string, data: unknown): Promise<PolicyPlane> {
  if (data === undefined) {
    if (config.policy.data) {
      try {
        readFileSync(resolve(baseDir, config.policy.data));
      } catch (e) {
        throw new ConfigError(
          `policy.data: cannot read ${config.policy.data} (${(e as NodeJS.ErrnoException).code})`,
        );
      }
    }
    return startPolicyPlane(config, baseDir);
  }
  const dir = mkdtempSync(join(tmpdir(), "portcullis-policy-data-"));
  try {
    const file = join(dir, "data.json");
    writeFileSync(file, typeof data === "string" ? data : JSON.stringify(data), { mode: 0o600 });
    return await startPolicyPlane({ ...config, policy: { ...config.policy, data: file } }, baseDir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function createServices(
  config: PortcullisConfig,
  baseDir: string,
  overrides: ServiceOverrides = {},
): Promise<GatewayServices> {
  const store = await openStore(config.store);
  let policy: PolicyPlane;
  try {
    policy = await startPlane(config, baseDir, overrides.policyData);
  } catch (e) {
    await store.close();
    throw e;
  }
  const rate = config.limits.rate;
  // The pipeline's input type is the contract's PolicyInput with MCP's annotation type; same shape.
  const service = storeGuardedDecisions(policy.service as DecisionPort, store);
  const decisions = rate
    ? rateLimitedDecisions(service, new TokenBucketLimiter({ ...rate, store }))
    : service;
  const auditCfg = { ...config.audit, ...overrides.audit };
  let auditLog: AuditLog;
  try {
    auditLog = openAuditLog(auditCfg, baseDir);
  } catch (e) {
    await policy.close();
    await store.close();
    throw e;
  }
  const bus = new SharedSessionEvents(store);
  let pins: SharedPins;
  try {
    pins = await SharedPins.open(PinStore.open(lockPathFor(baseDir)), store);
  } catch (e) {
    await auditLog.close();
    await policy.close();
    await store.close();
    throw e;
  }
  const approvalStore = new SharedApprovalStore(store);
  let models: ModelPlane;
  try {
    models = createModelPlane(config.models, { decisions, audit: auditLog, baseDir });
  } catch (e) {
    bus.close();
    pins.close();
    await auditLog.close();
    await policy.close();
    await store.close();
    throw e;
  }
  const storedKeys = watchStoredKeys(keyFilePath(config, baseDir));
  // The native sanitizer compiles its detector table on first use (~90 ms): do it now, on the
  // thread pool, instead of inside the first call that carries a string worth scanning.
  core.scanTextAsync("").catch(() => undefined);
  return {
    decisions,
    audit: auditLog as unknown as AuditPort, // AuditEntry is the contract type; AuditRecord matches it field for field.
    auditLog,
    policy,
    approvals: approvalStore,
    approvalStore,
    pins,
    events: bus as unknown as EventPort, // the bus narrows `kind` to the contract's kinds; the pipeline sends only those.
    bus,
    store,
    scan: (value) => core.scanValue(value),
    redact: (value, classes) => core.redactValue(value, { action: "mask", classes }).value,
    storedKeys,
    keyScopes: storedKeyScopes(storedKeys),
    builtins: createBuiltinCapabilities(config, { baseDir }).servers,
    models,
    ...(models.configured
      ? {
          sampling: createSamplingBridge(models.gateway, {
            serves: (model) =>
              models.router.route({ model, principal: { id: "", roles: [] }, dataClasses: [] }) !== undefined,
            ...(config.models.samplingModel ? { defaultModel: config.models.samplingModel } : {}),
          }),
        }
      : {}),
    async close() {
      await models.close();
      bus.close();
      pins.close();
      await auditLog.close();
      await policy.close();
      await store.close();
    },
  };
}
