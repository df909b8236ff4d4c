/**
 * Test support for the model API: a whole gateway (real services, policy, audit, the hono app)
 * listening on 127.0.0.1 with a given `models` section, policy data and stored (scoped) keys, and a `close()` that
 * stops it and removes its data folder, on the REST tests' `TestGateway`. Used by the acceptance tests and the benchmark.
 */
import { policyData as buildPolicyData, type PolicySettings } from "../../conformance/policy/settings.js";
import { createKey, keyFilePath } from "../auth/key-store.js";
import { TestGateway as Gateway } from "../rest/test-support.js";
import type { GatewayServices } from "../services.js";

export interface TestGateway {
  base: string;
  services: GatewayServices;
  /** The secrets of the stored keys asked for, by principal id. */
  storedKeys: Record<string, string>;
  close(): Promise<void>;
}

/** The policy data of model tests: every model allowed, secrets only to local providers. */
export function modelPolicyData(overrides: Partial<Omit<PolicySettings, "rules">> = {}) {
  return buildPolicyData([], {
    models: { allowed: ["*"], local_only_classes: ["secret"] },
    ...overrides,
  });
}

export async function startTestGateway(opts: {
  models: unknown;
  apiKeys: { id: string; key: string; roles?: string[] }[];
  policyData?: unknown;
  mcpServers?: Record<string, unknown>;
  /** Keys created in the gateway's key file before it starts (`portcullis keys create`). */
  storedKeys?: { id: string; roles?: string[]; scopes?: string[] }[];
}): Promise<TestGateway> {
  const storedKeys: Record<string, string> = {};
  const gateway = new Gateway({
    name: "models",
    envPrefix: "PC_MODELS_UNUSED",
    keys: {},
    config: {
      auth: { apiKeys: opts.apiKeys.map((k) => ({ roles: ["user"], ...k })) },
      models: opts.models,
      ...(opts.mcpServers ? { mcpServers: opts.mcpServers } : {}),
    },
    policyData: opts.policyData ?? modelPolicyData(),
    prepare: (config, dir) => {
      for (const k of opts.storedKeys ?? [])
        storedKeys[k.id] = createKey(keyFilePath(config, dir), { roles: ["user"], ...k }).key;
    },
  });
  await gateway.start();
  const { base } = await gateway.listen();
  return { base, services: gateway.services, storedKeys, close: () => gateway.close() };
}
