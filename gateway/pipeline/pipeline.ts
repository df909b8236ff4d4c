/**
 * The gateway pipeline: the one place the stage order is declared. Every tool call, prompt get and
 * resource read runs authenticate → resolve → decide → ask_user → (decision record) → execute,
 * wrapped by the outcome record. Lists are filtered by the same policy (action `tools/list` etc.:
 * a listed item is shown when the decision for it is not deny). Transports call this object and
 * hold no policy or routing logic themselves.
 */
import { randomUUID } from "node:crypto";
import type {
  CallToolResult,
  CompleteRequest,
  CompleteResult,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Tool,
} from "@modelcontextprotocol/sdk/types.js";
import type { Registry } from "../registry/registry.js";
import type { AbortState, ClientChannel, ProgressUpdate } from "../registry/source.js";
import { askUser } from "./ask-user.js";
import { recordDecision, recordOutcome } from "./audit.js";
import { type AuthenticateOptions, authenticate, createAuthenticator } from "./authenticate.js";
import { CallState, LocalAbort, SignalAbort } from "./call-state.js";
import type {
  ApprovalPort,
  AuditPort,
  CallAction,
  CallContext,
  Credentials,
  DecisionPort,
  EventPort,
  ListAction,
  PinPort,
  PolicyTarget,
  Principal,
  ScanPort,
  Stage,
} from "./context.js";
import { decide, decideSafely, policyInput } from "./decide.js";
import { execute } from "./execute.js";
import { resolve } from "./resolve.js";

export interface PipelineDeps {
  registry: Registry;
  decisions: DecisionPort;
  audit: AuditPort;
  approvals: ApprovalPort;
  auth: AuthenticateOptions;
  pins?: PinPort;
  events?: EventPort;
  scan?: ScanPort;
  redact?: (value: unknown, classes: string[]) => unknown;
  now?: () => Date;
}

/** What a transport knows about one request. */
export interface CallRequest {
  name: string;
  arguments?: Record<string, unknown>;
  credentials: Credentials;
  /** A principal the transport already authenticated (HTTP authenticates per request). */
  principal?: Principal;
  transport: "stdio" | "http";
  session?: string;
  signal?: AbortSignal;
  /** The call's abort state instead of `signal` (its signal is then made only if some stage reads it). */
  abort?: AbortState;
  client?: ClientChannel;
  onProgress?: (update: ProgressUpdate) => void;
  meta?: Record<string, unknown>;
  id?: string;
  /** Runs work nobody waits on after the transport wrote the reply (see `CallContext.afterReply`). */
  afterReply?: (task: () => void) => void;
}

export interface ListRequest {
  credentials: Credentials;
  principal?: Principal;
  transport: "stdio" | "http";
  session?: string;
}

const DONE: Promise<void> = Promise.resolve();

/**
 * Runs stages in order, hono-style: each receives `next` for the rest of the chain. The stage's
 * own promise is returned as it is (no wrapper promise per stage); a stage that throws instead of
 * rejecting still yields a rejected promise.
 */
export function compose(stages: Stage[]): (ctx: CallContext) => Promise<void> {
  return (ctx) => {
    const dispatch = (i: number): Promise<void> => {
      const stage = stages[i];
      if (!stage) return DONE;
      try {
        return stage(ctx, () => dispatch(i + 1));
      } catch (e) {
        return Promise.reject(e);
      }
    };
    return dispatch(0);
  };
}

export class Pipeline {
  readonly registry: Registry;
  readonly authenticate: (c: Credentials) => Principal;
  private readonly deps: PipelineDeps;
  private readonly run: (ctx: CallContext) => Promise<void>;

  constructor(deps: PipelineDeps) {
    this.deps = deps;
    this.registry = deps.registry;
    this.authenticate = createAuthenticator(deps.auth);
    const auditOpts = {
      audit: deps.audit,
      ...(deps.events ? { events: deps.events } : {}),
      ...(deps.redact ? { redact: deps.redact } : {}),
    };
    this.run = compose([
      recordOutcome(auditOpts),
      authenticate(this.authenticate),
      resolve(deps.registry, deps.pins),
      decide({
        decisions: deps.decisions,
        ...(deps.scan ? { scan: deps.scan } : {}),
        ...(deps.now ? { now: deps.now } : {}),
      }),
      askUser({ approvals: deps.approvals, ...(deps.events ? { events: deps.events } : {}) }),
      recordDecision(auditOpts),
      execute(),
    ]);
  }

  /** Runs one call through every stage and returns its finished context. */
  call(action: CallAction, req: CallRequest): Promise<CallContext> {
    const abort = req.abort ?? (req.signal ? new SignalAbort(req.signal) : new LocalAbort());
    const ctx: CallContext = new CallState(
      req.id ?? randomUUID(),
      action,
      req.name,
      req.arguments ?? {},
      req.credentials,
      req.transport,
      abort,
    );
    if (req.principal) ctx.principal = req.principal;
    if (req.session) ctx.session = req.session;
    if (req.client) ctx.client = req.client;
    if (req.onProgress) ctx.onProgress = req.onProgress;
    if (req.meta) ctx.meta = req.meta;
    if (req.afterReply) ctx.afterReply = req.afterReply;
    return this.run(ctx).then(() => ctx);
  }

  callTool(req: CallRequest): Promise<{ ctx: CallContext; result?: CallToolResult }> {
    return this.call("tools/call", req).then((ctx) =>
      ctx.outcome?.kind === "tool" ? { ctx, result: ctx.outcome.result } : { ctx },
    );
  }

  async getPrompt(req: CallRequest): Promise<{ ctx: CallContext; result?: GetPromptResult }> {
    const ctx = await this.call("prompts/get", req);
    return { ctx, ...(ctx.outcome?.kind === "prompt" ? { result: ctx.outcome.result } : {}) };
  }

  async readResource(req: CallRequest): Promise<{ ctx: CallContext; result?: ReadResourceResult }> {
    const ctx = await this.call("resources/read", req);
    return { ctx, ...(ctx.outcome?.kind === "resource" ? { result: ctx.outcome.result } : {}) };
  }

  /**
   * Records the person's answer to a pending approval that was asked through a 2026-era
   * input-required result (2025-era answers are recorded by the ask_user stage itself).
   */
  async answerApproval(id: string, granted: boolean, by: string, session?: string): Promise<void> {
    await this.deps.approvals.resolve(id, granted, by);
    if (session && this.deps.events) {
      try {
        this.deps.events.publish(session, "approval.resolved", { approval_id: id, granted, by });
      } catch {
        // a failing bus never fails a call
      }
    }
  }

  /** Whether the principal may see an item (allow or ask_user: the call could be allowed). */
  private async visible(action: ListAction, req: ListRequest, principal: Principal, target: PolicyTarget) {
    const ctx = {
      id: randomUUID(),
      action,
      name: target.name,
      arguments: {},
      principal,
      target,
      transport: req.transport,
      ...(req.session ? { session: req.session } : {}),
    } as unknown as CallContext; // policyInput reads only these fields; action widened on purpose.
    const input = policyInput(ctx, undefined, (this.deps.now ?? (() => new Date()))());
    const d = await decideSafely(this.deps.decisions, input);
    return d.decision !== "deny";
  }

  private principalOf(req: ListRequest): Principal {
    return req.principal ?? this.authenticate(req.credentials);
  }

  async listTools(req: ListRequest): Promise<Tool[]> {
    const principal = this.principalOf(req);
    const entries = await this.registry.listTools();
    const shown = await Promise.all(
      entries.map((e) =>
        this.visible("tools/list", req, principal, {
          kind: "tool",
          name: e.tool.name,
          server: e.source.name,
          ...(e.tool.annotations ? { annotations: e.tool.annotations } : {}),
        }),
      ),
    );
    return entries.filter((_, i) => shown[i]).map((e) => e.tool);
  }

  async listPrompts(req: ListRequest): Promise<Prompt[]> {
    const principal = this.principalOf(req);
    const entries = await this.registry.listPrompts();
    const shown = await Promise.all(
      entries.map((e) =>
        this.visible("prompts/list", req, principal, {
          kind: "prompt",
          name: e.prompt.name,
          server: e.source.name,
        }),
      ),
    );
    return entries.filter((_, i) => shown[i]).map((e) => e.prompt);
  }

  async listResources(req: ListRequest): Promise<Resource[]> {
    const principal = this.principalOf(req);
    const entries = await this.registry.listResources();
    const shown = await Promise.all(
      entries.map((e) =>
        this.visible("resources/list", req, principal, {
          kind: "resource",
          name: e.resource.uri,
          server: e.source.name,
        }),
      ),
    );
    return entries.filter((_, i) => shown[i]).map((e) => e.resource);
  }

  async listResourceTemplates(req: ListRequest): Promise<ResourceTemplate[]> {
    const principal = this.principalOf(req);
    const entries = await this.registry.listResourceTemplates();
    const shown = await Promise.all(
      entries.map((e) =>
        this.visible("resources/list", req, principal, {
          kind: "resource",
          name: e.template.uriTemplate,
          server: e.source.name,
        }),
      ),
    );
    return entries.filter((_, i) => shown[i]).map((e) => e.template);
  }

  /** Completions are routed to the source owning the prompt or template; they reveal no data. */
  async complete(params: CompleteRequest["params"], signal?: AbortSignal): Promise<CompleteResult> {
    const { source, ref } = await this.registry.resolveCompletion(params.ref);
    return source.complete({ ...params, ref }, signal ? { signal } : {});
  }
}
