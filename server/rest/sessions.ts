/**
 * Who owns a session and which session a pending approval belongs to, kept in the shared store so
 * every instance agrees: a session belongs to the first principal that uses it in a call (on any
 * instance), and an approval answered on instance B publishes `approval.resolved` to the session
 * the call was made in on instance A. Entries live for a day after they are written.
 */
import type { SharedStore } from "../../gateway/store/types.js";
import { RestError } from "./problem.js";

const TTL_MS = 86_400_000;

export class SessionDirectory {
  readonly #store: SharedStore;

  constructor(store: SharedStore) {
    this.#store = store;
  }

  /** Claims `session` for `principal`; throws GW_ERR_FORBIDDEN when another principal owns it. */
  async claim(session: string, principal: string): Promise<void> {
    const owner = await this.#store.setIfAbsent(`session-owner:${session}`, principal, TTL_MS);
    if (owner !== undefined && owner !== principal)
      throw new RestError("GW_ERR_FORBIDDEN", `session '${session}' belongs to another principal`);
  }

  ownerOf(session: string): Promise<string | undefined> {
    return this.#store.get(`session-owner:${session}`);
  }

  /** Remembers the session a pending approval was asked in. */
  async rememberApproval(approvalId: string, session: string): Promise<void> {
    await this.#store.set(`approval-session:${approvalId}`, session, TTL_MS);
  }

  sessionOfApproval(approvalId: string): Promise<string | undefined> {
    return this.#store.get(`approval-session:${approvalId}`);
  }
}
