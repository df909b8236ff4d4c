/**
 * Test support for the model API: a whole gateway (real services, policy, audit, the hono app)
 * listening on 127.0.0.1 with a given `models` section, policy data and stored (scoped) keys, and a `close()` that
 * stops it and removes its data folder. Used by the acceptance tests and the benchmark.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { policyData as buildPolicyData, type PolicySettings } from "../../conformance/policy/settings.js";
import { validateConfig } from "../../gateway/config/load.js";
import { createKey, keyFilePath } from "../auth/key-store.js";
import { createApp } from "../commands/serve.js";
import { createRuntime } from "../runtime.js";
import { createServices, type GatewayServices } from "../services.js";

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
  const dir = mkdtempSync(join(tmpdir(), "portcullis-models-"));
  const config = validateConfig({
    auth: { apiKeys: opts.apiKeys.map((k) => ({ roles: ["user"], ...k })) },
    audit: { dir: "audit" },
    models: opts.models,
    ...(opts.mcpServers ? { mcpServers: opts.mcpServers } : {}),
  });
  const storedKeys: Record<string, string> = {};
  for (const k of opts.storedKeys ?? [])
    storedKeys[k.id] = createKey(keyFilePath(config, dir), { roles: ["user"], ...k }).key;
  const services = await createServices(config, dir, { policyData: opts.policyData ?? modelPolicyData() });
  const runtime = createRuntime(config, dir, services);
  const app = createApp({ runtime, services });
  const server: ServerType = serve({ fetch: app.app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise<void>((ok) => server.once("listening", () => ok()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    services,
    storedKeys,
    async close() {
      await app.close();
      await new Promise<void>((done) => {
        server.close(() => done());
        if ("closeAllConnections" in server) server.closeAllConnections();
      });
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
