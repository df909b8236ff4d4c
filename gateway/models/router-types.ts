/**
 * Types shared by the router, its attempt loop and its callers: a provider ready to call, a
 * target in the order the router tries them, the query a route is matched against, and the
 * per-target admission the caller's hook returns (the request as redacted for that target, how to
 * restore reversible placeholders in its answer, the deadline) or a denial that skips the target.
 */
import type {
  ChatRequest,
  ChatResponse,
  ChatStreamEvent,
  ProviderAdapter,
} from "../../adapters/models/types.js";
import type { ProviderConfig, Route, RouteTarget } from "../../contracts/index.js";
import type { Reason } from "../pipeline/context.js";

/** A provider with its credential resolved and its adapter built. */
export interface RoutedProvider {
  config: ProviderConfig;
  credential?: string;
  adapter: ProviderAdapter;
}

/** One target in the order the router tries them. */
export interface PlannedTarget {
  route: Route;
  target: RouteTarget;
  provider: RoutedProvider;
  /** `provider/model`: the key of its breaker and latency estimate. */
  key: string;
  /** Comes from the route's `fallbacks`. */
  fallback: boolean;
}

export interface RouteQuery {
  model: string;
  principal: { id: string; roles: readonly string[] };
  /** Data classes the sanitizer found in the request. */
  dataClasses: readonly string[];
}

/** Rewrites a stream's events on their way to the client (reversible placeholders restored). */
export interface StreamRestorer {
  push(event: ChatStreamEvent): ChatStreamEvent[];
  /** Whatever is still held back, before an error or the end of the stream. */
  flush(): ChatStreamEvent[];
}

/** The target may receive this request. */
export interface Admitted {
  request: ChatRequest;
  /** Deadline of one attempt (the policy's timeout obligation); the adapter has the provider's own. */
  timeoutMs?: number;
  restore?: (response: ChatResponse) => ChatResponse;
  restoreStream?: () => StreamRestorer;
}

export type Admission = Admitted | { denied: Reason[] };

export interface CallHooks {
  /** Decides one target before anything is sent to it; throwing refuses the whole request. */
  admit(target: PlannedTarget): Promise<Admission>;
  /** Time spent inside one send to a provider (a stream's until its first token), for overhead figures. */
  sent?(ms: number): void;
  /** Called once per target tried or passed over, when its part of the call ended. */
  report?(r: import("./attempts.js").AttemptReport): void;
}
