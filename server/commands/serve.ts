/**
 * `portcullis serve`: HTTP (MCP Streamable HTTP at `/mcp`, health at `/healthz`, the REST API of
 * server/rest when the services are passed) on the configured
 * address. `createApp(deps)` builds the hono app and never listens, so tests drive it in-process
 * with `app.request(...)`; `serveCommand` loads the config, builds the runtime and listens. A
 * non-loopback bind is refused unless API keys are configured. With no key and no loopback trust
 * configured, a local bearer key is kept in the data folder (see local-key.ts).
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import type { Command } from "../../cli.js";
import { loadConfig } from "../../gateway/config/load.js";
import { UsageError } from "../../gateway/errors.js";
import { parseStoreUrl } from "../../gateway/store/index.js";
import { createJwtVerifier } from "../auth/jwt.js";
import { keyFilePath, readKeyFile } from "../auth/key-store.js";
import { createProtectedResource } from "../auth/resource.js";
import { createFastLane, type FastLane } from "../mcp/fast-lane.js";
import { createMcpHttp, type McpHttp } from "../mcp/http.js";
import { createModernHandler } from "../mcp/modern.js";
import { createModelRoutes } from "../models/routes.js";
import type { Env } from "../rest/gate.js";
import { createRestRoutes } from "../rest/routes.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices, type GatewayServices } from "../services.js";
import { withLocalApiKey } from "./local-key.js";

export interface AppDeps {
  runtime: Runtime;
  /** The real services behind the runtime; when given, the REST API (server/rest) is mounted. */
  services?: GatewayServices;
}

export interface App {
  app: Hono<Env>;
  mcp: McpHttp;
  /**
   * The node request listener `serve` listens with: the `/mcp` fast lane (server/mcp/fast-lane.ts)
   * in front of hono's. `hostname` is what a request without a Host header is given.
   */
  fastLane(hostname?: string): FastLane;
  /** Closes the MCP sessions of both eras (the runtime is the caller's). */
  close(): Promise<void>;
}

export function createApp(deps: AppDeps): App {
  const { runtime } = deps;
  const s = runtime.config.server;
  const modern = createModernHandler(runtime.pipeline);
  const auth = runtime.config.auth;
  const resource = createProtectedResource({
    config: runtime.config,
    pipeline: runtime.pipeline,
    authConfigured: () =>
      auth.apiKeys.length > 0 || auth.jwt !== undefined || (deps.services?.storedKeys?.().length ?? 0) > 0,
    // On /mcp the token's audience must be this gateway's resource (auth.resource when set).
    ...(auth.jwt
      ? { verifyToken: createJwtVerifier({ ...auth.jwt, audience: auth.resource ?? auth.jwt.audience }) }
      : {}),
    ...(deps.services ? { keyScopes: deps.services.keyScopes } : {}),
  });
  const mcp = createMcpHttp({
    pipeline: runtime.pipeline,
    limits: {
      maxBodyBytes: s.maxBodyBytes,
      maxJsonDepth: s.maxJsonDepth,
      allowedOrigins: s.allowedOrigins,
      allowedHosts: s.allowedHosts,
    },
    modern: modern.handle,
    authenticated: resource.authenticated,
  });
  const app = new Hono<Env>();
  app.get("/healthz", (c) => c.json({ ok: true, upstreams: runtime.pool.health() }));
  resource.mount(app);
  app.route("/mcp", mcp.app);
  const rest = deps.services
    ? createRestRoutes({
        runtime,
        approvals: deps.services.approvalStore,
        bus: deps.services.bus,
        auditLog: deps.services.auditLog,
        decisions: deps.services.decisions,
        approverRoles: runtime.config.auth.approverRoles,
        adminRoles: runtime.config.auth.adminRoles,
        policy: deps.services.policy,
        store: deps.services.store,
        keyScopes: deps.services.keyScopes,
        ...(runtime.config.auth.jwt ? { verifyToken: createJwtVerifier(runtime.config.auth.jwt) } : {}),
      })
    : undefined;
  // Before the REST API: its /v1/* gate knows only bearer tokens, the model API also x-api-key.
  if (deps.services)
    app.route(
      "/",
      createModelRoutes({
        gateway: deps.services.models.gateway,
        gate: {
          pipeline: runtime.pipeline,
          maxBodyBytes: runtime.config.models.maxBodyBytes,
          maxJsonDepth: s.maxJsonDepth,
          allowedOrigins: s.allowedOrigins,
          allowedHosts: s.allowedHosts,
          keyScopes: deps.services.keyScopes,
          ...(auth.jwt ? { verifyToken: createJwtVerifier(auth.jwt) } : {}),
        },
      }),
    );
  if (rest) app.route("/", rest.app);
  return {
    app,
    mcp,
    fastLane: (hostname) =>
      createFastLane({
        lane: mcp.lane,
        fallback: getRequestListener(app.fetch, hostname === undefined ? {} : { hostname }),
        admit: resource.admitNow,
        ...(hostname === undefined ? {} : { hostname }),
      }),
    async close() {
      rest?.close();
      await mcp.close();
      await modern.close();
    },
  };
}

const LOOPBACK_BINDS = new Set(["127.0.0.1", "localhost", "::1"]);

export const serveCommand: Command = {
  summary: "Serve MCP over Streamable HTTP and the HTTP gateway",
  usage: "Usage: portcullis serve [--config FILE] [--host H] [--port P] [--store redis://host:port[/db]]",
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string", short: "c" },
        host: { type: "string" },
        port: { type: "string" },
        store: { type: "string" },
      },
    });
    const loaded = loadConfig(values.config);
    const { baseDir } = loaded;
    const local = withLocalApiKey(loaded.config, baseDir);
    const { keyFile } = local;
    // --store overrides the config's `store` (shared state for several instances).
    const config = values.store !== undefined ? { ...local.config, store: values.store } : local.config;
    if (config.store) parseStoreUrl(config.store);
    const host = values.host ?? config.server.host;
    const port = values.port ? Number(values.port) : config.server.port;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`invalid --port '${values.port}'`);
    const storedKeys = readKeyFile(keyFilePath(loaded.config, baseDir)).filter((k) => !k.revoked_at);
    if (
      !LOOPBACK_BINDS.has(host) &&
      loaded.config.auth.apiKeys.length === 0 &&
      storedKeys.length === 0 &&
      !loaded.config.auth.jwt
    )
      throw new UsageError(
        `refusing to bind ${host} without authentication: configure auth.apiKeys, auth.jwt or 'portcullis keys create', or bind 127.0.0.1`,
      );
    const services = await createServices(config, baseDir);
    const runtime = createRuntime(config, baseDir, services);
    const { fastLane, close } = createApp({ runtime, services });
    const server = createServer(fastLane(host).listener);
    server.listen(port, host, () => {
      const info = server.address() as AddressInfo;
      console.error(`portcullis: listening on http://${host}:${info.port}/mcp`);
      if (keyFile)
        console.error(
          `portcullis: no API key configured; clients send 'Authorization: Bearer <the key in ${keyFile}>'`,
        );
    });
    await new Promise<void>((done) => {
      // Sessions first (their SSE streams would keep connections open), then the listener.
      const stop = () =>
        void close().finally(() => {
          server.close(() => done());
          if ("closeAllConnections" in server) server.closeAllConnections();
        });
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await runtime.close();
    return 0;
  },
};
