/**
 * Session events: the in-process `SessionEventBus`, and `SharedSessionEvents` over the shared
 * store (one or several instances; exposed over SSE by the HTTP transport).
 */
export {
  ALL_SESSIONS,
  checkSessionEvent,
  SessionEventBus,
  type SessionEventBusOptions,
  type SessionEventListener,
} from "./bus.js";
export { type SessionEventFeed, SharedSessionEvents, type SharedSessionEventsOptions } from "./shared.js";
