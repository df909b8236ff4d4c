/**
 * The REST tests' common set-up: a real gateway (validated config, services, runtime and the
 * hono app of `createApp`) over a fresh temporary folder, with API keys handed over the way an
 * operator would (environment variables referenced as `env:NAME`), requests in-process or over a
 * loopback socket, and one teardown that closes the app, every socket it opened, the runtime and
 * removes the folder. Free of any test framework: a test file calls `start()` in `beforeAll` and
 * `close()` in `afterAll`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import { policyData as buildPolicyData } from "../../conformance/policy/settings.js";
import { validateConfig } from "../../gateway/config/load.js";
import type { PortcullisConfig } from "../../gateway/config/schema.js";
import { createApp } from "../commands/serve.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices, type GatewayServices, type ServiceOverrides } from "../services.js";

/** One API key: its secret, its roles and its principal id (the key's name when absent). */
export interface TestKey {
  secret: string;
  roles: string[];
  id?: string;
}

export interface TestGatewaySpec<K extends string> {
  /** The temporary folder is `<tmpdir>/portcullis-<name>-XXXXXX`. */
  name: string;
  /** Each key's secret is put in the environment as `<envPrefix>_<KEY NAME>`. */
  envPrefix: string;
  keys: Record<K, TestKey>;
  /**
   * The rest of the config; `keys` are appended to its `auth.apiKeys`, `audit` defaults to
   * `{dir: "audit"}`.
   */
  config?: Record<string, unknown>;
  /** Files written into the folder before the services start (names relative to it). */
  files?: () => Record<string, string | Uint8Array>;
  /** Runs with the validated config and the folder before the services start (e.g. stored keys). */
  prepare?: (config: PortcullisConfig, dir: string) => void;
  policyData?: ServiceOverrides["policyData"];
}

/** A request: `json` is sent as an `application/json` body. */
export type TestRequestInit = RequestInit & { json?: unknown };

type App = ReturnType<typeof createApp>;

export class TestGateway<K extends string> {
  private started: { dir: string; runtime: Runtime; services: GatewayServices; app: App } | undefined;
  private readonly servers = new Set<ServerType>();

  constructor(private readonly spec: TestGatewaySpec<K>) {}

  async start(): Promise<void> {
    if (this.started) throw new Error("the test gateway is already started");
    const dir = mkdtempSync(join(tmpdir(), `portcullis-${this.spec.name}-`));
    for (const [name, content] of Object.entries(this.spec.files?.() ?? {}))
      writeFileSync(join(dir, name), content);
    const apiKeys = Object.entries<TestKey>(this.spec.keys).map(([name, key]) => {
      const env = `${this.spec.envPrefix}_${name.toUpperCase()}`;
      process.env[env] = key.secret;
      return { id: key.id ?? name, key: `env:${env}`, roles: key.roles };
    });
    const rest = this.spec.config ?? {};
    const auth = rest.auth as { apiKeys?: unknown[] } | undefined;
    const config = validateConfig({
      ...rest,
      auth: { ...auth, apiKeys: [...(auth?.apiKeys ?? []), ...apiKeys] },
      audit: rest.audit ?? { dir: "audit" },
    });
    this.spec.prepare?.(config, dir);
    const overrides: ServiceOverrides =
      this.spec.policyData === undefined ? {} : { policyData: this.spec.policyData };
    const services = await createServices(config, dir, overrides);
    const runtime = createRuntime(config, dir, services);
    this.started = { dir, runtime, services, app: createApp({ runtime, services }) };
  }

  /** Closes the app, the sockets still open, the runtime, and removes the folder. */
  async close(): Promise<void> {
    const started = this.started;
    this.started = undefined;
    await started?.app.close();
    await Promise.all([...this.servers].map((server) => closeServer(server)));
    this.servers.clear();
    await started?.runtime.close();
    if (started) rmSync(started.dir, { recursive: true, force: true });
  }

  get dir(): string {
    return this.running().dir;
  }

  get runtime(): Runtime {
    return this.running().runtime;
  }

  get services(): GatewayServices {
    return this.running().services;
  }

  get app(): App {
    return this.running().app;
  }

  /** The secret of one of the spec's keys. */
  secret(who: K): string {
    return this.spec.keys[who].secret;
  }

  /** An in-process request, with `who`'s key as a bearer token (anonymous when undefined). */
  request(path: string, who: K | undefined, init: TestRequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (who) headers.set("authorization", `Bearer ${this.secret(who)}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    return Promise.resolve(
      this.app.app.request(`http://127.0.0.1${path}`, {
        ...init,
        headers,
        ...(body !== undefined ? { body } : {}),
      }),
    );
  }

  /** Serves the app on a free loopback port; the base URL and a close (also done by `close()`). */
  async listen(): Promise<{ base: string; close: () => Promise<void> }> {
    const server = serve({ fetch: this.app.app.fetch, hostname: "127.0.0.1", port: 0 });
    this.servers.add(server);
    await new Promise<void>((ok) => server.once("listening", () => ok()));
    return {
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: async () => {
        if (this.servers.delete(server)) await closeServer(server);
      },
    };
  }

  private running(): NonNullable<typeof this.started> {
    if (!this.started) throw new Error("the test gateway is not started: call start() in beforeAll");
    return this.started;
  }
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise<void>((done) => {
    server.close(() => done());
    if ("closeAllConnections" in server) server.closeAllConnections();
  });
}

/**
 * A JSON call over a socket as an agent makes it: GET without a body, POST with a JSON one, the
 * key as a bearer token, bounded to 10 s. The answer's status, content type and parsed body.
 */
export async function fetchJson(base: string, key: string, path: string, body?: unknown) {
  const r = await fetch(`${base}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  // biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON bodies, as an untyped agent would
  return { status: r.status, type: r.headers.get("content-type") ?? "", body: JSON.parse(text) as any };
}

/** The policy of the approval-flow tests: ask before `memory__upsert`, users may call the rest. */
export function approvalFlowPolicyData(): ReturnType<typeof buildPolicyData> {
  return buildPolicyData(
    [
      {
        id: "memory-writes-need-approval",
        effect: "ask",
        actions: ["tools/call"],
        names: ["memory__upsert"],
      },
      { id: "users-call-the-rest", effect: "allow", roles: ["user"] },
    ],
    { ask_ttl_s: 120 },
  );
}
