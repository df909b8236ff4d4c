/**
 * The model gateway built from the `models` section of the configuration: provider credentials
 * resolved once at start (`env:` / `file:` references; a missing one fails the start, naming the
 * reference), one undici adapter per provider, the router, the egress redactor and the policy +
 * audit wiring of service.ts. `close()` releases the adapters' connection pools.
 */
import { createProviderAdapter } from "../../adapters/models/provider.js";
import type { ProviderAdapter } from "../../adapters/models/types.js";
import type { ProviderConfig } from "../../contracts/index.js";
import { redactValue } from "../../native/index.js";
import type { Clock } from "../clock.js";
import { resolveSecret } from "../config/secrets.js";
import type { DecisionPort } from "../pipeline/context.js";
import type { ModelsConfig } from "./config-schema.js";
import { EgressRedactor, type RedactFn } from "./redaction.js";
import { ModelRouter } from "./router.js";
import { type ModelAuditPort, ModelGateway } from "./service.js";
import type { RandomSource } from "./strategies.js";

export { ModelCallError, modelErrorBody } from "./failures.js";
export { type ListedModel, type ModelCallContext, ModelGateway } from "./service.js";

export interface ModelGatewayOptions {
  decisions: DecisionPort;
  audit: ModelAuditPort;
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  /** Builds a provider's adapter; default the undici adapter of adapters/models. */
  adapter?: (config: ProviderConfig) => ProviderAdapter;
  redact?: RedactFn;
  clock?: Clock;
  random?: RandomSource;
}

export interface ModelPlane {
  gateway: ModelGateway;
  router: ModelRouter;
  /** Whether any route is configured (the model API answers 404 for every model otherwise). */
  configured: boolean;
  close(): Promise<void>;
}

export function createModelPlane(config: ModelsConfig, opts: ModelGatewayOptions): ModelPlane {
  const build = opts.adapter ?? createProviderAdapter;
  const providers = config.providers.map((p) => ({
    config: p,
    ...(p.credential ? { credential: resolveSecret(p.credential, opts.baseDir, opts.env) } : {}),
    adapter: build(p),
  }));
  const router = new ModelRouter({
    providers,
    routes: config.routes,
    breaker: config.breaker,
    maxRetryAfterMs: config.maxRetryAfterMs,
    latencyAlpha: config.latencyAlpha,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
  const redactor = new EgressRedactor({
    ...(config.redaction ? { policy: config.redaction } : {}),
    ...(config.hashKey ? { hashKey: resolveSecret(config.hashKey, opts.baseDir, opts.env) } : {}),
    redact: opts.redact ?? redactValue,
  });
  const gateway = new ModelGateway({
    router,
    redactor,
    decisions: opts.decisions,
    audit: opts.audit,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return {
    gateway,
    router,
    configured: config.routes.length > 0,
    async close() {
      await Promise.allSettled(providers.map((p) => p.adapter.close()));
    },
  };
}
