/**
 * Wires bundle deployment from the configuration: the decision service behind a BundleActivator
 * (persisted last good bundle under `dataDir`), the configured source (watched file or polled
 * bundle service), decision logs and the optional status upload. The server calls `startPolicyPlane` once, uses `service`
 * for decisions, mounts `createPolicyAdminRoutes({ activator, decisionLog, authorize })`, and
 * calls `close()` on shutdown. Keys and tokens are resolved from references at start (keys) or at
 * each request (tokens), so rotating a token file needs no restart.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { PortcullisConfig } from "../../gateway/config/schema.js";
import { resolveSecret } from "../../gateway/config/secrets.js";
import type { DecisionService } from "../service.js";
import { BundleActivator } from "./activator.js";
import { DecisionLogger } from "./decision-log.js";
import { FileBundleSource } from "./file-source.js";
import { HttpBundleSource } from "./http-source.js";
import type { VerificationKey } from "./signing.js";
import { StatusReporter } from "./status-upload.js";

export interface PolicyPlane {
  service: DecisionService;
  activator: BundleActivator;
  decisionLog?: DecisionLogger;
  close(): Promise<void>;
}

export async function startPolicyPlane(
  config: PortcullisConfig,
  baseDir = process.cwd(),
): Promise<PolicyPlane> {
  const p = config.policy;
  const src = p.source;
  const keys = new Map<string, VerificationKey>();
  for (const [id, k] of Object.entries(src?.keys ?? {})) {
    keys.set(id, {
      id,
      algorithm: k.algorithm,
      key: resolveSecret(k.key, baseDir),
      ...(k.scope ? { scope: k.scope } : {}),
    });
  }
  const activator = await BundleActivator.open({
    name: src?.name ?? "portcullis",
    dataDir: resolve(baseDir, config.dataDir),
    keys,
    ...(src?.scope ? { scope: src.scope } : {}),
    ...(src?.keyId ? { keyId: src.keyId } : {}),
    ...(src ? { limits: src.limits } : {}),
    service: {
      engine: p.engine,
      cacheSize: p.cacheSize,
      ...(p.bundle ? { bundlePath: resolve(baseDir, p.bundle) } : {}),
      ...(p.data ? { data: readFileSync(resolve(baseDir, p.data), "utf8") } : {}),
    },
  });
  const stops: Array<() => Promise<void>> = [];
  if (src?.file) {
    const file = new FileBundleSource({ activator, path: resolve(baseDir, src.file), limits: src.limits });
    await file.start();
    stops.push(() => file.stop());
  } else if (src?.service) {
    const s = src.service;
    const token = s.token;
    const http = new HttpBundleSource({
      activator,
      url: s.url,
      minDelaySeconds: s.minDelaySeconds,
      maxDelaySeconds: s.maxDelaySeconds,
      maxBytes: src.limits.maxCompressedBytes,
      ...(s.longPollingTimeoutSeconds ? { longPollingTimeoutSeconds: s.longPollingTimeoutSeconds } : {}),
      ...(token ? { bearerToken: () => resolveSecret(token, baseDir) } : {}),
    });
    http.start();
    stops.push(() => http.stop());
  }
  let decisionLog: DecisionLogger | undefined;
  const dl = p.decisionLogs;
  if (dl && (dl.file || dl.url)) {
    const token = dl.token;
    decisionLog = new DecisionLogger({
      bundleName: activator.name,
      labels: dl.labels,
      maxBufferEvents: dl.maxBufferEvents,
      ...(dl.file ? { file: resolve(baseDir, dl.file) } : {}),
      ...(dl.url
        ? {
            sink: {
              url: dl.url,
              minDelaySeconds: dl.minDelaySeconds,
              maxDelaySeconds: dl.maxDelaySeconds,
              ...(token ? { bearerToken: () => resolveSecret(token, baseDir) } : {}),
            },
          }
        : {}),
    }).attach();
  }
  const up = p.statusUpload;
  if (up) {
    const token = up.token;
    const reporter = new StatusReporter({
      activator,
      url: up.url,
      labels: up.labels,
      minDelaySeconds: up.minDelaySeconds,
      maxDelaySeconds: up.maxDelaySeconds,
      ...(decisionLog ? { decisionLog } : {}),
      ...(token ? { bearerToken: () => resolveSecret(token, baseDir) } : {}),
    });
    reporter.start();
    stops.push(() => reporter.stop());
  }
  return {
    service: activator.service,
    activator,
    ...(decisionLog ? { decisionLog } : {}),
    async close() {
      for (const stop of stops) await stop();
      await decisionLog?.close();
      await activator.close();
    },
  };
}
