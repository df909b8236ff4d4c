/**
 * The policy admin HTTP routes, as a hono sub-app the server mounts: `PUT /v1/policy/bundle`
 * (authenticated push of a bundle archive, activated like any download), `GET /v1/policy/status`
 * (OPA-style bundle status plus decision-log counters) and `GET /v1/policy/metrics` (Prometheus
 * text). Authentication is the caller's: `authorize` sees the request and must return true, so a
 * server that forgets to wire it refuses every push. The app never listens; `serve` does.
 */
import { Hono } from "hono";
import { errorMessage, PortcullisError } from "../../gateway/errors.js";
import type { BundleActivator } from "./activator.js";
import type { DecisionLogger } from "./decision-log.js";

export interface PolicyAdminDeps {
  activator: BundleActivator;
  /** True when the request may administer policy (e.g. an admin principal). */
  authorize(req: Request): boolean | Promise<boolean>;
  /** Largest pushed body; default: 32 MiB. */
  maxBundleBytes?: number;
  decisionLog?: DecisionLogger;
}

async function readLimited(req: Request, limit: number): Promise<Buffer | "too_large"> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) return "too_large";
  if (!req.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      return "too_large";
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export function createPolicyAdminRoutes(deps: PolicyAdminDeps): Hono {
  const app = new Hono();
  const limit = deps.maxBundleBytes ?? 32 * 1024 * 1024;

  app.use("/v1/policy/*", async (c, next) => {
    let ok = false;
    try {
      ok = await deps.authorize(c.req.raw);
    } catch {
      ok = false;
    }
    if (!ok)
      return c.json(
        { error: { code: "unauthorized", message: "policy administration needs an admin" } },
        401,
      );
    await next();
  });

  app.put("/v1/policy/bundle", async (c) => {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/(gzip|x-gzip|octet-stream|vnd\.openpolicyagent\.bundles)\b/.test(type))
      return c.json(
        { error: { code: "unsupported_media_type", message: "send the bundle as application/gzip" } },
        415,
      );
    const body = await readLimited(c.req.raw, limit);
    if (body === "too_large")
      return c.json(
        { error: { code: "compressed_too_large", message: `bundle exceeds ${limit} bytes` } },
        413,
      );
    try {
      const r = await deps.activator.activate(body, { kind: "push" });
      return c.json({
        revision: r.revision,
        policy_hash: r.policyHash,
        engines: r.engines,
        smoke_cases: r.smokeCases,
        activation_ms: Math.round(r.durationMs * 1000) / 1000,
        ...(r.signature
          ? { signature: { key_id: r.signature.keyId, scope: r.signature.scope ?? null } }
          : {}),
      });
    } catch (e) {
      const code =
        e instanceof PortcullisError ? String(e.details?.reason ?? "activation_failed") : "activation_failed";
      return c.json({ error: { code, message: errorMessage(e) }, status: deps.activator.status() }, 422);
    }
  });

  app.get("/v1/policy/status", (c) => {
    const status = deps.activator.status();
    return c.json({
      bundles: { [status.name]: status },
      ...(deps.decisionLog ? { decision_logs: deps.decisionLog.stats() } : {}),
    });
  });

  app.get("/v1/policy/metrics", (c) => {
    const text = deps.activator.tracker.metricsText() + (deps.decisionLog?.metricsText() ?? "");
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4" });
  });

  return app;
}
