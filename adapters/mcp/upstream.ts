/**
 * One upstream MCP server (stdio command or Streamable HTTP URL) as a capability source. The
 * connection starts lazily on first use; when the process dies or the connection drops, every
 * in-flight request fails at once with GW_ERR_UPSTREAM_UNAVAILABLE and a restart is scheduled with
 * exponential backoff. Requests the upstream sends back (elicitation, sampling) are relayed to the
 * client of the most recent in-flight call that can take them. Credentials come only from the
 * config (env:NAME references), never from the downstream client.
 */
import {
  type CallToolResult,
  type CompleteRequest,
  type CompleteResult,
  type CreateMessageRequest,
  type CreateMessageResult,
  type ElicitResult,
  ErrorCode,
  type GetPromptResult,
  McpError,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  type ServerCapabilities,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import type { UpstreamServerConfig } from "../../gateway/config/schema.js";
import { resolveMaybeSecret } from "../../gateway/config/secrets.js";
import { PortcullisError } from "../../gateway/errors.js";
import {
  type CapabilitySource,
  type ClientChannel,
  isTaskHandle,
  type ProgressUpdate,
  type SourceCallOptions,
  type SourceEvents,
  type TaskMethod,
} from "../../gateway/registry/source.js";
import { type Abortable, CallAbort, LazySignalOptions, onAbort } from "./call-abort.js";
import {
  isConnectionClosed,
  type LinkHooks,
  type LinkMethod,
  type LinkTarget,
  type ListMethod,
  openLink,
  type SendOptions,
  type UpstreamEra,
  type UpstreamLink,
} from "./link.js";
import {
  fulfilInputs,
  isInputRequired,
  MAX_INPUT_ROUNDS,
  modernEnvelope,
  type SampleFallback,
} from "./rounds.js";
import { awaitTask, type TaskSend, taskEnvelope } from "./tasks.js";

export type UpstreamState = "idle" | "starting" | "ready" | "backoff" | "closed";

export interface UpstreamHealth {
  name: string;
  state: UpstreamState;
  restarts: number;
  lastError?: string;
  pid?: number;
  /** The era of the live link (what `protocol: auto` negotiated). */
  era?: UpstreamEra;
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

/** A call in flight with its client: relayed requests go to it, and wait without the timer. */
interface ActiveCall {
  channel: ClientChannel;
  /** Wraps a wait for the client's answer so it does not count as upstream inactivity. */
  waitFor: <R>(p: Promise<R>) => Promise<R>;
}

const STDERR_LINES = 20;
/** The SDK's own per-request timeout is replaced by the inactivity timer in `run`. */
const NO_SDK_TIMEOUT = 2 ** 31 - 1;

export class Upstream implements CapabilitySource {
  readonly name: string;
  readonly prefix: string;
  private readonly opts: UpstreamOptions;
  private client: UpstreamLink | undefined;
  private connecting: Promise<UpstreamLink> | undefined;
  private state: UpstreamState = "idle";
  private restarts = 0;
  private failures = 0;
  private lastError: string | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private events: SourceEvents = {};
  /** In-flight calls with a client, oldest first (no per-call WeakMap entry: they cost GC time). */
  private readonly active: ActiveCall[] = [];
  private readonly stderrTail: string[] = [];
  private readonly progress = new Map<string, (p: ProgressUpdate) => void>();
  private progressSeq = 0;

  /** Tasks extension: tasks/* for this upstream's tasks; absent when it is pinned to 2025-11-25. */
  readonly taskRequest?: CapabilitySource["taskRequest"];
  /**
   * Serves a sampling request when no client of the calls in flight can sample (the model
   * router, gateway/models/sampling.ts); unset: such requests are refused.
   */
  samplingFallback?: (
    server: string,
    params: CreateMessageRequest["params"],
    signal?: AbortSignal,
  ) => Promise<CreateMessageResult>;

  constructor(opts: UpstreamOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.prefix = opts.prefix;
    if (opts.config.protocol !== "2025-11-25")
      this.taskRequest = (method, params, callOpts) =>
        this.run(callOpts, (c, { meta, options }) => this.sendTask(c, method, params, meta, options));
  }

  /** The sampling fallback bound to this upstream, for input-required rounds; undefined when unset. */
  private sampleFallback(): SampleFallback | undefined {
    const fallback = this.samplingFallback;
    return fallback ? (params, signal) => fallback(this.name, params, signal) : undefined;
  }

  setEvents(events: SourceEvents): void {
    this.events = events;
  }

  health(): UpstreamHealth {
    const pid = this.client?.pid ?? null;
    return {
      name: this.name,
      state: this.state,
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(pid ? { pid } : {}),
      ...(this.client ? { era: this.client.era } : {}),
    };
  }

  /** Capabilities the upstream declared (connects if needed). */
  async capabilities(): Promise<ServerCapabilities> {
    return (await this.connect()).capabilities();
  }

  /** Connects now unless already connected; concurrent callers share one attempt. */
  connect(): Promise<UpstreamLink> {
    if (this.state === "closed") return Promise.reject(this.unavailable("the gateway is shutting down"));
    if (this.client && this.state === "ready") return Promise.resolve(this.client);
    if (this.state === "backoff")
      return Promise.reject(this.unavailable(`restarting after a failure (${this.lastError ?? "unknown"})`));
    this.connecting ??= this.start().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async start(): Promise<UpstreamLink> {
    this.state = "starting";
    let target: LinkTarget;
    try {
      target = this.target();
    } catch (e) {
      // A secret reference that does not resolve: unavailable, naming the reference (never a value).
      this.fail(e);
      throw this.unavailable(`cannot start: ${this.lastError}`);
    }
    let link: UpstreamLink;
    const hooks = this.hooks(() => link);
    try {
      link = await openLink(this.opts.config.protocol, target, hooks);
    } catch (e) {
      this.fail(e);
      throw this.unavailable(`cannot start: ${this.lastError}`);
    }
    if (this.state !== "starting") {
      await link.close().catch(() => {});
      throw this.unavailable("closed while starting");
    }
    this.client = link;
    this.state = "ready";
    this.failures = 0;
    return link;
  }

  private target(): LinkTarget {
    const { config, baseDir } = this.opts;
    if (config.command) {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(config.env)) env[k] = resolveMaybeSecret(v, baseDir);
      return {
        kind: "stdio",
        command: config.command,
        args: config.args,
        env: { ...inheritedEnv(), ...env },
        cwd: config.cwd ?? baseDir,
      };
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(config.headers)) headers[k] = resolveMaybeSecret(v, baseDir);
    return { kind: "http", url: config.url!, headers };
  }

  private keepStderr(text: string): void {
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_LINES) this.stderrTail.shift();
      if (process.env.PORTCULLIS_UPSTREAM_STDERR === "1") process.stderr.write(`[${this.name}] ${line}\n`);
    }
  }

  /** What the link reports outside responses; `current` names the link the hooks belong to. */
  private hooks(current: () => UpstreamLink | undefined): LinkHooks {
    const refuse = (what: string) => new McpError(ErrorCode.InvalidRequest, `the client cannot ${what}`);
    return {
      elicit: async (params, signal): Promise<ElicitResult> => {
        const call = this.callFor((c) => Boolean(c.elicit && c.capabilities.elicitation));
        if (!call?.channel.elicit) throw refuse("answer elicitation");
        return call.waitFor(call.channel.elicit(params as never, signal));
      },
      createMessage: async (params, signal): Promise<CreateMessageResult> => {
        const call = this.callFor((c) => Boolean(c.createMessage && c.capabilities.sampling));
        if (!call?.channel.createMessage) {
          if (this.samplingFallback) return this.samplingFallback(this.name, params as never, signal);
          throw refuse("sample");
        }
        return call.waitFor(call.channel.createMessage(params as never, signal));
      },
      progress: ({ progressToken, progress, total, message }) => {
        this.progress.get(String(progressToken))?.({
          progress,
          ...(total !== undefined ? { total } : {}),
          ...(message !== undefined ? { message } : {}),
        });
      },
      log: (n) => void this.callFor(() => true)?.channel.notify(n),
      listChanged: (kind) => this.events.onListChanged?.(kind),
      resourceUpdated: (uri) => this.events.onResourceUpdated?.(uri),
      stderr: (text) => this.keepStderr(text),
      closed: () => {
        const link = current();
        if (link) this.onClosed(link);
      },
    };
  }

  /** The most recent in-flight call whose client passes `accepts`. */
  private callFor(accepts: (c: ClientChannel) => boolean): ActiveCall | undefined {
    for (let i = this.active.length - 1; i >= 0; i--) {
      const call = this.active[i]!;
      if (accepts(call.channel)) return call;
    }
    return undefined;
  }

  private onClosed(link: UpstreamLink): void {
    if (this.client !== link) return;
    this.client = undefined;
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
    fn: (
      c: UpstreamLink,
      ctl: {
        meta?: Record<string, unknown>;
        options: SendOptions;
        waitForClient: <R>(p: Promise<R>) => Promise<R>;
      },
    ) => Promise<T>,
  ): Promise<T> {
    // A ready link is used at once: awaiting it would cost the call a turn of the microtask queue
    // before its request is written.
    const client = this.client && this.state === "ready" ? this.client : await this.connect();
    const channel = opts?.client;
    const timeoutMs = this.opts.config.timeoutMs;
    const idle = new CallAbort();
    const timedOut = () =>
      idle.abort(
        new PortcullisError(
          "GW_ERR_TIMEOUT",
          `upstream '${this.name}' did not answer within ${timeoutMs} ms`,
        ),
      );
    let timer = setTimeout(timedOut, timeoutMs);
    /** Answers from the client being awaited right now (the timer is stopped meanwhile). */
    let awaiting = 0;
    const onProgress = opts?.onProgress;
    const token = onProgress ? `portcullis-${++this.progressSeq}` : undefined;
    if (token && onProgress)
      this.progress.set(token, (p) => {
        clearTimeout(timer);
        if (awaiting === 0) timer = setTimeout(timedOut, timeoutMs);
        onProgress(p);
      });
    const envelope =
      client.era === "2026-07-28" && channel
        ? taskEnvelope(modernEnvelope(channel, this.samplingFallback !== undefined), channel)
        : undefined;
    const meta =
      token || opts?.meta || envelope
        ? { ...opts?.meta, ...envelope, ...(token ? { progressToken: token } : {}) }
        : undefined;
    // The call's abort aborts the call's state through one callback (no AbortSignal.any): the
    // caller's abort state when it gives one (no signal made, no listener), else a listener on
    // its signal. An AbortSignal of the call is made only for the paths that need one
    // (`options.signal`).
    const outer: Abortable | undefined = opts?.abort ?? opts?.signal;
    let offOuter: (() => void) | undefined;
    if (outer?.aborted) idle.abort(outer.reason);
    else if (outer) offOuter = onAbort(outer, (reason) => idle.abort(reason));
    const options: SendOptions = new LazySignalOptions(idle, NO_SDK_TIMEOUT);
    // Time the person takes to answer (an input round, a relayed elicitation or sampling request)
    // is not upstream inactivity: the timer stops while any answer is awaited.
    const waitForClient = async <R>(p: Promise<R>): Promise<R> => {
      awaiting++;
      clearTimeout(timer);
      try {
        return await p;
      } finally {
        if (--awaiting === 0) {
          clearTimeout(timer);
          timer = setTimeout(timedOut, timeoutMs);
        }
      }
    };
    const active: ActiveCall | undefined = channel ? { channel, waitFor: waitForClient } : undefined;
    if (active) this.active.push(active);
    try {
      return await fn(client, {
        ...(meta ? { meta } : {}),
        options,
        waitForClient,
      });
    } catch (e) {
      if (isConnectionClosed(e))
        throw this.unavailable(
          `connection lost during the request (${this.lastError ?? (e as Error).message})`,
        );
      throw e;
    } finally {
      clearTimeout(timer);
      offOuter?.();
      if (token) this.progress.delete(token);
      if (active) {
        const i = this.active.lastIndexOf(active);
        if (i >= 0) this.active.splice(i, 1);
      }
    }
  }

  private async has(cap: keyof ServerCapabilities): Promise<boolean> {
    return Boolean((await this.capabilities())[cap]);
  }

  /** Every page of a list. */
  private listAll<T>(method: ListMethod): Promise<T[]> {
    return this.run(undefined, async (c, { options }) => {
      const items: T[] = [];
      let cursor: string | undefined;
      do {
        const page = await c.list(method, cursor, options);
        items.push(...(page.items as T[]));
        cursor = page.nextCursor;
      } while (cursor);
      return items;
    });
  }

  /**
   * One request that may need input rounds. A 2026 upstream answers `input_required`: the input
   * requests go to the call's client (as they are to a 2026 client, as elicitation/sampling/roots
   * requests to a 2025 one) and the request is retried with the answers and the upstream's own
   * `requestState`, byte for byte, until it completes. A 2025 upstream asks mid-call instead.
   */
  private request<T>(
    method: LinkMethod,
    params: Record<string, unknown>,
    opts: SourceCallOptions,
  ): Promise<T> {
    return this.run(opts, async (c, { meta, options, waitForClient }) => {
      const base = { ...params, ...(meta ? { _meta: meta } : {}) };
      const first = c.era === "2026-07-28" ? opts.client?.inputResponses : undefined;
      let next: Record<string, unknown> = first ? { ...base, inputResponses: first } : base;
      for (let round = 0; ; round++) {
        const result = await c.send(method, next, options);
        // A task handle for a client that cannot take one: follow the task to its end here.
        if (isTaskHandle(result) && !opts.client?.adoptTask) {
          const send: TaskSend = (m, p, s) =>
            this.sendTask(c, m, p, meta, { signal: s ?? options.signal, timeout: options.timeout });
          return (await awaitTask(result, send, opts.client, options.signal, waitForClient)) as T;
        }
        if (!isInputRequired(result)) return result as T;
        if (round >= MAX_INPUT_ROUNDS)
          throw new PortcullisError(
            "GW_ERR_UPSTREAM",
            `upstream '${this.name}' asked for input more than ${MAX_INPUT_ROUNDS} times`,
          );
        const answers = await waitForClient(
          fulfilInputs(result.inputRequests ?? {}, opts.client, options.signal, this.sampleFallback()),
        );
        next = {
          ...base,
          inputResponses: answers,
          ...(result.requestState !== undefined ? { requestState: result.requestState } : {}),
        };
      }
    });
  }

  /** One tasks/* request on the live link (2026 links only). */
  private sendTask(
    c: UpstreamLink,
    method: TaskMethod,
    params: Record<string, unknown>,
    meta: Record<string, unknown> | undefined,
    options: SendOptions,
  ): Promise<Record<string, unknown>> {
    if (!c.task)
      return Promise.reject(
        new PortcullisError("GW_ERR_UPSTREAM", `upstream '${this.name}' speaks an era without tasks`),
      );
    return c.task(method, { ...params, ...(meta ? { _meta: meta } : {}) }, options);
  }

  async listTools(): Promise<Tool[]> {
    if (!(await this.has("tools"))) return [];
    return this.listAll<Tool>("tools/list");
  }

  callTool(name: string, args: Record<string, unknown>, opts: SourceCallOptions): Promise<CallToolResult> {
    return this.request("tools/call", { name, arguments: args }, opts);
  }

  async listPrompts(): Promise<Prompt[]> {
    if (!(await this.has("prompts"))) return [];
    return this.listAll<Prompt>("prompts/list");
  }

  getPrompt(name: string, args: Record<string, string>, opts: SourceCallOptions): Promise<GetPromptResult> {
    return this.request("prompts/get", { name, arguments: args }, opts);
  }

  async listResources(): Promise<Resource[]> {
    if (!(await this.has("resources"))) return [];
    return this.listAll<Resource>("resources/list");
  }

  async listResourceTemplates(): Promise<ResourceTemplate[]> {
    if (!(await this.has("resources"))) return [];
    return this.listAll<ResourceTemplate>("resources/templates/list");
  }

  readResource(uri: string, opts: SourceCallOptions): Promise<ReadResourceResult> {
    return this.request("resources/read", { uri }, opts);
  }

  async complete(params: CompleteRequest["params"], opts: SourceCallOptions): Promise<CompleteResult> {
    if (!(await this.has("completions"))) return { completion: { values: [] } };
    return this.run(
      opts,
      async (c, { options }) =>
        (await c.send("completion/complete", params as Record<string, unknown>, options)) as CompleteResult,
    );
  }

  /**
   * Forwards a client's `logging/setLevel` to a running 2025-era upstream that declares logging
   * (a 2026 upstream gets the level with each request instead). Does not start the upstream.
   */
  async setLogLevel(level: string): Promise<void> {
    const c = this.client;
    if (!c || this.state !== "ready" || c.era !== "2025-11-25" || !c.capabilities().logging) return;
    await this.run(undefined, (link, { options }) => link.send("logging/setLevel", { level }, options));
  }

  async subscribe(uri: string): Promise<void> {
    if ((await this.capabilities()).resources?.subscribe)
      await this.run(undefined, (c, { options }) => c.send("resources/subscribe", { uri }, options));
  }

  async unsubscribe(uri: string): Promise<void> {
    if ((await this.capabilities()).resources?.subscribe)
      await this.run(undefined, (c, { options }) => c.send("resources/unsubscribe", { uri }, options));
  }

  /** Stops the upstream for good; a stdio child is terminated and reaped before this resolves. */
  async close(): Promise<void> {
    this.state = "closed";
    clearTimeout(this.restartTimer);
    const pending = this.connecting;
    if (pending) await pending.catch(() => {});
    const client = this.client;
    this.client = undefined;
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
