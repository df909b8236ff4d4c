/**
 * The object a call travels in (`CallState`, the pipeline's `CallContext`) and its abort state.
 * A call's `AbortSignal` costs an AbortController and, at the source, an event listener; most
 * calls are never aborted, so the signal is made only when some stage or source reads
 * `ctx.signal`. The abort state says whether the call was aborted and takes plain callbacks:
 * a transport that owns the call's abort (plain MCP calls) passes its own state, one that has a
 * signal gets `SignalAbort` around it, and a call with neither gets `LocalAbort`, which nobody can
 * abort but which still hands out a signal of its own when asked (never a shared one, so that
 * listeners a source leaves on it go away with the call).
 */
import type { AbortState } from "../registry/source.js";
import type { CallContext } from "./context.js";

/** The abort state of a call that arrived with an AbortSignal. */
export class SignalAbort implements AbortState {
  readonly signal: AbortSignal;

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  get reason(): unknown {
    return this.signal.reason;
  }

  onAbort(fn: (reason: unknown) => void): () => void {
    const signal = this.signal;
    const listener = () => fn(signal.reason);
    signal.addEventListener("abort", listener, { once: true });
    return () => signal.removeEventListener("abort", listener);
  }
}

const NOTHING_TO_REMOVE = (): void => {};

/** The abort state of a call nobody can abort (it came without a signal). */
export class LocalAbort implements AbortState {
  readonly aborted = false;
  readonly reason: unknown = undefined;
  private controller: AbortController | undefined;

  /** A signal that never aborts, made on first read. */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** Nothing to register: this call is never aborted. */
  onAbort(_fn: (reason: unknown) => void): () => void {
    return NOTHING_TO_REMOVE;
  }
}

/**
 * A call's context. Only the members every call has are fields; the stages add the optional ones
 * (declared, so a call carries only what was set, as with a plain object). `signal` is the abort
 * state's signal, read on demand.
 */
export class CallState implements CallContext {
  readonly id: string;
  readonly action: CallContext["action"];
  readonly name: string;
  arguments: Record<string, unknown>;
  readonly credentials: CallContext["credentials"];
  readonly transport: CallContext["transport"];
  readonly abort: AbortState;
  readonly startedAt: number;
  declare session?: CallContext["session"];
  declare client?: CallContext["client"];
  declare onProgress?: CallContext["onProgress"];
  declare meta?: CallContext["meta"];
  declare afterReply?: CallContext["afterReply"];
  declare principal?: CallContext["principal"];
  declare source?: CallContext["source"];
  declare sourceName?: CallContext["sourceName"];
  declare definition?: CallContext["definition"];
  declare target?: CallContext["target"];
  declare argsDigest?: CallContext["argsDigest"];
  declare decision?: CallContext["decision"];
  declare policyMs?: CallContext["policyMs"];
  declare upstreamMs?: CallContext["upstreamMs"];
  declare status?: CallContext["status"];
  declare outcome?: CallContext["outcome"];
  declare error?: CallContext["error"];
  declare decisionRecorded?: CallContext["decisionRecorded"];
  declare taskEnd?: CallContext["taskEnd"];
  declare pendingApproval?: CallContext["pendingApproval"];
  declare inputHash?: CallContext["inputHash"];

  constructor(
    id: string,
    action: CallContext["action"],
    name: string,
    args: Record<string, unknown>,
    credentials: CallContext["credentials"],
    transport: CallContext["transport"],
    abort: AbortState,
  ) {
    this.id = id;
    this.action = action;
    this.name = name;
    this.arguments = args;
    this.credentials = credentials;
    this.transport = transport;
    this.abort = abort;
    this.startedAt = performance.now();
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }
}
