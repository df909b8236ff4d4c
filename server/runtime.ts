/**
 * The gateway runtime: the composition of upstream pool, built-in sources, registry and pipeline
 * for one loaded configuration. The services it needs (decision service, audit log, approvals,
 * pins, session events, sanitizer) are passed in, so transports and tests share one wiring;
 * `server/services.ts` builds the real ones from the config.
 */

import { UpstreamPool } from "../adapters/mcp/pool.js";
import type { PortcullisConfig } from "../gateway/config/schema.js";
import { resolveSecret } from "../gateway/config/secrets.js";
import type { SamplingBridge } from "../gateway/models/sampling.js";
import type { StoredKeyDigest } from "../gateway/pipeline/authenticate.js";
import type {
  ApprovalPort,
  AuditPort,
  DecisionPort,
  EventPort,
  PinPort,
  ScanPort,
} from "../gateway/pipeline/context.js";
import { Pipeline } from "../gateway/pipeline/pipeline.js";
import { type BuiltinServer, BuiltinSource } from "../gateway/registry/builtin.js";
import { Registry } from "../gateway/registry/registry.js";

export interface RuntimeServices {
  decisions: DecisionPort;
  audit: AuditPort;
  approvals: ApprovalPort;
  pins?: PinPort;
  events?: EventPort;
  scan?: ScanPort;
  redact?: (value: unknown, classes: string[]) => unknown;
  /** Active API keys of the key file (`portcullis keys`), by digest. */
  storedKeys?: () => readonly StoredKeyDigest[];
  builtins?: BuiltinServer[];
  /** Serves upstream sampling requests no client can answer (the model router). */
  sampling?: SamplingBridge;
  /** Releases what the services hold (policy engine, audit file handles). */
  close?: () => Promise<void>;
}

export interface Runtime {
  config: PortcullisConfig;
  pool: UpstreamPool;
  registry: Registry;
  pipeline: Pipeline;
  close(): Promise<void>;
}

export function createRuntime(
  config: PortcullisConfig,
  baseDir: string,
  services: RuntimeServices,
  opts: { backoffMs?: number } = {},
): Runtime {
  const pool = new UpstreamPool(config.mcpServers, {
    baseDir,
    ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
  });
  if (services.sampling) for (const u of pool.upstreams) u.samplingFallback = services.sampling;
  const builtins = (services.builtins ?? []).map((b) => new BuiltinSource(b));
  const registry = new Registry([...builtins, ...pool.upstreams]);
  const pipeline = new Pipeline({
    registry,
    decisions: services.decisions,
    audit: services.audit,
    approvals: services.approvals,
    auth: {
      apiKeys: config.auth.apiKeys.map((k) => ({
        id: k.id,
        key: resolveSecret(k.key, baseDir),
        roles: k.roles,
      })),
      ...(services.storedKeys ? { storedKeys: services.storedKeys } : {}),
      stdioPrincipal: config.auth.stdioPrincipal,
      stdioRoles: config.auth.stdioRoles,
      ...(config.auth.localHttpPrincipal ? { localHttpPrincipal: config.auth.localHttpPrincipal } : {}),
    },
    ...(services.pins ? { pins: services.pins } : {}),
    ...(services.events ? { events: services.events } : {}),
    ...(services.scan ? { scan: services.scan } : {}),
    ...(services.redact ? { redact: services.redact } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    config,
    pool,
    registry,
    pipeline,
    close() {
      closing ??= (async () => {
        await pool.close();
        await services.close?.();
      })();
      return closing;
    },
  };
}
