/** Session events: the in-process `SessionEventBus` (exposed over SSE by the HTTP transport). */
export {
  ALL_SESSIONS,
  SessionEventBus,
  type SessionEventBusOptions,
  type SessionEventListener,
} from "./bus.js";
