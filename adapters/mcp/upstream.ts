/**
 * One upstream MCP server (stdio command or Streamable HTTP URL) as a capability source. The
 * connection starts lazily on first use; when the process dies or the connection drops, every
 * in-flight request fails at once with GW_ERR_UPSTREAM_UNAVAILABLE and a restart is scheduled with
 * exponential backoff. Requests the upstream sends back (elicitation, sampling) are relayed to the
 * client of the most recent in-flight call that can take them. Credentials come only from the
 * config (env:NAME references), never from the downstream client.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  CallToolResultSchema,
  type CompleteRequest,
  CompleteResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  GetPromptResultSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ProgressNotificationSchema,
  PromptListChangedNotificationSchema,
  ReadResourceResultSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type ServerCapabilities,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { UpstreamServerConfig } from "../../gateway/config/schema.js";
import { resolveMaybeSecret } from "../../gateway/config/secrets.js";
import { PortcullisError } from "../../gateway/errors.js";
import type {
  CapabilitySource,
  ClientChannel,
  ListKind,
  ProgressUpdate,
  SourceCallOptions,
  SourceEvents,
} from "../../gateway/registry/source.js";

export type UpstreamState = "idle" | "starting" | "ready" | "backoff" | "closed";

export interface UpstreamHealth {
  name: string;
  state: UpstreamState;
  restarts: number;
  lastError?: string;
  pid?: number;
}

export interface UpstreamOptions {
  name: string;
  config: UpstreamServerConfig;
  prefix: string;
  baseDir: string;
  /** First restart delay; doubles per consecutive failure up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

const STDERR_LINES = 20;
/** The SDK's own per-request timeout is replaced by the inactivity timer in `run`. */
const NO_SDK_TIMEOUT = 2 ** 31 - 1;

export class Upstream implements CapabilitySource {
  readonly name: string;
  readonly prefix: string;
  private readonly opts: UpstreamOptions;
  private client: Client | undefined;
  private transport: Transport | undefined;
  private connecting: Promise<Client> | undefined;
  private state: UpstreamState = "idle";
  private restarts = 0;
  private failures = 0;
  private lastError: string | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private events: SourceEvents = {};
  private readonly active: ClientChannel[] = [];
  private readonly stderrTail: string[] = [];
  private readonly progress = new Map<string, (p: ProgressUpdate) => void>();
  private progressSeq = 0;

  constructor(opts: UpstreamOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.prefix = opts.prefix;
  }

  setEvents(events: SourceEvents): void {
    this.events = events;
  }

  health(): UpstreamHealth {
    const pid = this.transport instanceof StdioClientTransport ? this.transport.pid : null;
    return {
      name: this.name,
      state: this.state,
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(pid ? { pid } : {}),
    };
  }

  /** Capabilities the upstream declared (connects if needed). */
  async capabilities(): Promise<ServerCapabilities> {
    return (await this.connect()).getServerCapabilities() ?? {};
  }

  /** Connects now unless already connected; concurrent callers share one attempt. */
  connect(): Promise<Client> {
    if (this.state === "closed") return Promise.reject(this.unavailable("the gateway is shutting down"));
    if (this.client && this.state === "ready") return Promise.resolve(this.client);
    if (this.state === "backoff")
      return Promise.reject(this.unavailable(`restarting after a failure (${this.lastError ?? "unknown"})`));
    this.connecting ??= this.start().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async start(): Promise<Client> {
    this.state = "starting";
    let transport: Transport;
    try {
      transport = this.makeTransport();
    } catch (e) {
      // A secret reference that does not resolve: unavailable, naming the reference (never a value).
      this.fail(e);
      throw this.unavailable(`cannot start: ${this.lastError}`);
    }
    const client = new Client(
      { name: "portcullis", version: "0.1.0" },
      { capabilities: { elicitation: { form: {}, url: {} }, sampling: {} } },
    );
    this.installHandlers(client);
    client.onclose = () => this.onClosed(client);
    try {
      await client.connect(transport);
    } catch (e) {
      await transport.close().catch(() => {});
      this.fail(e);
      throw this.unavailable(`cannot start: ${this.lastError}`);
    }
    if (this.state !== "starting") {
      await client.close().catch(() => {});
      throw this.unavailable("closed while starting");
    }
    this.client = client;
    this.transport = transport;
    this.state = "ready";
    this.failures = 0;
    return client;
  }

  private makeTransport(): Transport {
    const { config, baseDir } = this.opts;
    if (config.command) {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(config.env)) env[k] = resolveMaybeSecret(v, baseDir);
      const t = new StdioClientTransport({
        command: config.command,
        args: config.args,
        env: { ...inheritedEnv(), ...env },
        cwd: config.cwd ?? baseDir,
        stderr: "pipe",
      });
      t.stderr?.on("data", (chunk: Buffer) => this.keepStderr(chunk.toString("utf8")));
      return t;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(config.headers)) headers[k] = resolveMaybeSecret(v, baseDir);
    return new StreamableHTTPClientTransport(new URL(config.url!), { requestInit: { headers } });
  }

  private keepStderr(text: string): void {
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_LINES) this.stderrTail.shift();
      if (process.env.PORTCULLIS_UPSTREAM_STDERR === "1") process.stderr.write(`[${this.name}] ${line}\n`);
    }
  }

  private installHandlers(client: Client): void {
    client.setRequestHandler(ElicitRequestSchema, async (req, extra) => {
      const channel = this.channelFor((c) => Boolean(c.elicit && c.capabilities.elicitation));
      if (!channel?.elicit)
        throw new McpError(ErrorCode.InvalidRequest, "the client cannot answer elicitation");
      return channel.elicit(req.params, extra.signal);
    });
    client.setRequestHandler(CreateMessageRequestSchema, async (req, extra) => {
      const channel = this.channelFor((c) => Boolean(c.createMessage && c.capabilities.sampling));
      if (!channel?.createMessage) throw new McpError(ErrorCode.InvalidRequest, "the client cannot sample");
      return channel.createMessage(req.params, extra.signal);
    });
    client.setNotificationHandler(ProgressNotificationSchema, (n) => {
      const { progressToken, progress, total, message } = n.params;
      this.progress.get(String(progressToken))?.({
        progress,
        ...(total !== undefined ? { total } : {}),
        ...(message !== undefined ? { message } : {}),
      });
    });
    client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => {
      await this.channelFor(() => true)?.notify(n);
    });
    const changed = (kind: ListKind) => () => this.events.onListChanged?.(kind);
    client.setNotificationHandler(ToolListChangedNotificationSchema, changed("tools"));
    client.setNotificationHandler(PromptListChangedNotificationSchema, changed("prompts"));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, changed("resources"));
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      this.events.onResourceUpdated?.(n.params.uri);
    });
  }

  /** The most recent in-flight call's client that passes `accepts`. */
  private channelFor(accepts: (c: ClientChannel) => boolean): ClientChannel | undefined {
    for (let i = this.active.length - 1; i >= 0; i--) {
      const c = this.active[i]!;
      if (accepts(c)) return c;
    }
    return undefined;
  }

  private onClosed(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.transport = undefined;
    if (this.state === "closed") return;
    const tail = this.stderrTail.at(-1);
    this.fail(new Error(`connection lost${tail ? `; last stderr: ${tail}` : ""}`));
  }

  private fail(e: unknown): void {
    this.lastError = e instanceof Error ? e.message : String(e);
    if (this.state === "closed") return;
    this.state = "backoff";
    const base = this.opts.backoffMs ?? 250;
    const delay = Math.min(base * 2 ** this.failures, this.opts.maxBackoffMs ?? 30_000);
    this.failures++;
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== "backoff") return;
      this.state = "idle";
      this.restarts++;
      this.connect().catch(() => {});
    }, delay);
    this.restartTimer.unref();
  }

  private unavailable(why: string): PortcullisError {
    return new PortcullisError(
      "GW_ERR_UPSTREAM_UNAVAILABLE",
      `upstream '${this.name}' is unavailable: ${why}`,
      {
        details: { upstream: this.name },
      },
    );
  }

  /**
   * Runs one request with the call's client registered for relayed requests and its own progress
   * token. Progress is routed by our handler, not the SDK's, because the SDK drops a progress
   * notification that arrives in the same read as the response; the timeout is an inactivity timer
   * that every progress update resets. Lost connections map to GW_ERR_UPSTREAM_UNAVAILABLE.
   */
  private async run<T>(
    opts: SourceCallOptions | undefined,
    fn: (c: Client, ctl: { meta?: Record<string, unknown>; options: RequestOptions }) => Promise<T>,
  ): Promise<T> {
    const client = await this.connect();
    const channel = opts?.client;
    if (channel) this.active.push(channel);
    const timeoutMs = this.opts.config.timeoutMs;
    const idle = new AbortController();
    const timedOut = () =>
      idle.abort(
        new PortcullisError(
          "GW_ERR_TIMEOUT",
          `upstream '${this.name}' did not answer within ${timeoutMs} ms`,
        ),
      );
    let timer = setTimeout(timedOut, timeoutMs);
    const onProgress = opts?.onProgress;
    const token = onProgress ? `portcullis-${++this.progressSeq}` : undefined;
    if (token && onProgress)
      this.progress.set(token, (p) => {
        clearTimeout(timer);
        timer = setTimeout(timedOut, timeoutMs);
        onProgress(p);
      });
    const meta =
      token || opts?.meta ? { ...opts?.meta, ...(token ? { progressToken: token } : {}) } : undefined;
    const signal = opts?.signal ? AbortSignal.any([opts.signal, idle.signal]) : idle.signal;
    try {
      return await fn(client, { ...(meta ? { meta } : {}), options: { signal, timeout: NO_SDK_TIMEOUT } });
    } catch (e) {
      if (e instanceof McpError && e.code === ErrorCode.ConnectionClosed)
        throw this.unavailable(`connection lost during the request (${this.lastError ?? e.message})`);
      throw e;
    } finally {
      clearTimeout(timer);
      if (token) this.progress.delete(token);
      if (channel) {
        const i = this.active.lastIndexOf(channel);
        if (i >= 0) this.active.splice(i, 1);
      }
    }
  }

  private async has(cap: keyof ServerCapabilities): Promise<boolean> {
    return Boolean((await this.capabilities())[cap]);
  }

  async listTools() {
    if (!(await this.has("tools"))) return [];
    return this.run(undefined, async (c, { options }) => {
      const tools = [];
      let cursor: string | undefined;
      do {
        const page = await c.listTools(cursor ? { cursor } : undefined, options);
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    });
  }

  callTool(name: string, args: Record<string, unknown>, opts: SourceCallOptions): Promise<CallToolResult> {
    return this.run(opts, (c, { meta, options }) =>
      c.request(
        {
          method: "tools/call",
          params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
        },
        CallToolResultSchema,
        options,
      ),
    );
  }

  async listPrompts() {
    if (!(await this.has("prompts"))) return [];
    return this.run(undefined, async (c, { options }) => {
      const prompts = [];
      let cursor: string | undefined;
      do {
        const page = await c.listPrompts(cursor ? { cursor } : undefined, options);
        prompts.push(...page.prompts);
        cursor = page.nextCursor;
      } while (cursor);
      return prompts;
    });
  }

  getPrompt(name: string, args: Record<string, string>, opts: SourceCallOptions) {
    return this.run(opts, (c, { meta, options }) =>
      c.request(
        {
          method: "prompts/get",
          params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
        },
        GetPromptResultSchema,
        options,
      ),
    );
  }

  async listResources() {
    if (!(await this.has("resources"))) return [];
    return this.run(undefined, async (c, { options }) => {
      const resources = [];
      let cursor: string | undefined;
      do {
        const page = await c.listResources(cursor ? { cursor } : undefined, options);
        resources.push(...page.resources);
        cursor = page.nextCursor;
      } while (cursor);
      return resources;
    });
  }

  async listResourceTemplates() {
    if (!(await this.has("resources"))) return [];
    return this.run(undefined, async (c, { options }) => {
      const templates = [];
      let cursor: string | undefined;
      do {
        const page = await c.listResourceTemplates(cursor ? { cursor } : undefined, options);
        templates.push(...page.resourceTemplates);
        cursor = page.nextCursor;
      } while (cursor);
      return templates;
    });
  }

  readResource(uri: string, opts: SourceCallOptions) {
    return this.run(opts, (c, { meta, options }) =>
      c.request(
        { method: "resources/read", params: { uri, ...(meta ? { _meta: meta } : {}) } },
        ReadResourceResultSchema,
        options,
      ),
    );
  }

  async complete(params: CompleteRequest["params"], opts: SourceCallOptions) {
    if (!(await this.has("completions"))) return { completion: { values: [] } };
    return this.run(opts, (c, { options }) =>
      c.request({ method: "completion/complete", params }, CompleteResultSchema, options),
    );
  }

  async subscribe(uri: string): Promise<void> {
    if ((await this.capabilities()).resources?.subscribe)
      await this.run(undefined, (c, { options }) => c.subscribeResource({ uri }, options));
  }

  async unsubscribe(uri: string): Promise<void> {
    if ((await this.capabilities()).resources?.subscribe)
      await this.run(undefined, (c, { options }) => c.unsubscribeResource({ uri }, options));
  }

  /** Stops the upstream for good; a stdio child is terminated and reaped before this resolves. */
  async close(): Promise<void> {
    this.state = "closed";
    clearTimeout(this.restartTimer);
    const pending = this.connecting;
    if (pending) await pending.catch(() => {});
    const client = this.client;
    this.client = undefined;
    this.transport = undefined;
    if (client) await client.close().catch(() => {});
  }
}

/** The few variables a child needs to run at all; the gateway's own secrets are not passed on. */
function inheritedEnv(): Record<string, string> {
  const keep = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "TMPDIR", "LANG", "SYSTEMROOT"];
  const env: Record<string, string> = {};
  for (const k of keep) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}
