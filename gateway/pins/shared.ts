/**
 * Pinned-definition approvals shared by every instance through the shared store: the store holds
 * one approved hash per tool, which is authoritative, and each instance's `portcullis.lock` follows
 * it. The first instance to see a tool publishes its first-use pin (set-if-absent, so two
 * instances that first see different definitions agree on one, and the other then reports its
 * upstream's definition as changed); an approval (`portcullis pin --approve <tool> --store …`, or
 * `approve` here) is written to the store and announced on the `pins` log, and every instance
 * adopts it into its lock at once. The per-call check stays the lock's synchronous check; the store
 * is only written on first sight and on approval, and re-read every `syncMs` (default 10 s) so an
 * instance that missed announcements while the store was away catches up. A store that cannot be
 * reached never loosens anything: the lock keeps answering, and a changed definition stays denied.
 */
import { errorMessage } from "../errors.js";
import type { PinPort } from "../pipeline/context.js";
import type { SharedStore } from "../store/types.js";
import type { PinEntry } from "./lockfile.js";
import { type PinCheck, type PinStore, type ToolDefinition, toolDefinitionHash } from "./store.js";

/** What the store holds for a tool. */
export interface SharedPin {
  tool: string;
  hash: string;
  approved_by: string;
  approved_at: string;
}

const INDEX = "pins";
const LOG = "pins";
/** Pins are kept this long after their last approval (Redis keys need an expiry here). */
const PIN_TTL_MS = 400 * 86_400_000;
const keyOf = (tool: string) => `pin:${tool}`;

function parsePin(raw: string | undefined): SharedPin | undefined {
  if (raw === undefined) return undefined;
  try {
    const p = JSON.parse(raw) as SharedPin;
    return typeof p.tool === "string" && typeof p.hash === "string" && /^[0-9a-f]{64}$/.test(p.hash)
      ? p
      : undefined;
  } catch {
    return undefined;
  }
}

export class SharedPins implements PinPort {
  readonly local: PinStore;
  readonly #store: SharedStore;
  readonly #warn: (message: string) => void;
  readonly #off: () => void;
  readonly #timer: NodeJS.Timeout | undefined;

  private constructor(local: PinStore, store: SharedStore, syncMs: number, warn: (m: string) => void) {
    this.local = local;
    this.#store = store;
    this.#warn = warn;
    this.#off = store.onAppend((log, entry) => {
      if (log !== LOG) return;
      const pin = parsePin(entry.payload);
      if (pin) this.#adopt(pin);
    });
    this.#timer = syncMs > 0 ? setInterval(() => void this.sync(), syncMs).unref() : undefined;
  }

  /** Wraps the instance's lock and brings it in line with the shared pins. */
  static async open(
    local: PinStore,
    store: SharedStore,
    opts: { syncMs?: number; warn?: (message: string) => void } = {},
  ): Promise<SharedPins> {
    const pins = new SharedPins(
      local,
      store,
      opts.syncMs ?? 10_000,
      opts.warn ?? ((m) => process.emitWarning(`pins: ${m}`)),
    );
    await pins.sync();
    return pins;
  }

  /** Adopts every shared pin into the lock; reports (never throws) when the store is away. */
  async sync(): Promise<void> {
    try {
      const tools = await this.#store.indexMembers(INDEX);
      for (const raw of await this.#store.getMany(tools.map(keyOf))) {
        const pin = parsePin(raw);
        if (pin) this.#adopt(pin);
      }
    } catch (e) {
      this.#warn(`shared pins not read: ${errorMessage(e)}`);
    }
  }

  check(tool: string, definition: unknown): PinCheck {
    return this.checkHash(tool, toolDefinitionHash(definition as ToolDefinition));
  }

  checkHash(tool: string, hash: string): PinCheck {
    const r = this.local.checkHash(tool, hash);
    if (r.first_seen) void this.#share({ tool, ...this.#entry(tool) });
    return r;
  }

  /**
   * Approves `hash` for `tool` on every instance. The store is written first: when it cannot be
   * reached this rejects (GW_ERR_STORE_UNAVAILABLE) and nothing is approved anywhere.
   */
  async approve(tool: string, hash: string, by: string): Promise<PinEntry> {
    const pin: SharedPin = { tool, hash, approved_by: by, approved_at: new Date().toISOString() };
    await this.#store.set(keyOf(tool), JSON.stringify(pin), PIN_TTL_MS);
    await this.#store.indexAdd(INDEX, tool, Date.parse(pin.approved_at), PIN_TTL_MS);
    const entry = this.local.approveHash(tool, hash, by);
    await this.#store.appendLog(LOG, JSON.stringify(pin), 100);
    return entry;
  }

  /** Approves the changed definition the lock holds as pending (what `portcullis pin --approve` does). */
  async approvePending(tool: string, by: string): Promise<PinEntry> {
    const pending = this.local.get(tool)?.pending_hash;
    // approvePending throws the lock's own "nothing pending" error when there is none.
    if (!pending) return this.local.approvePending(tool, by);
    return this.approve(tool, pending, by);
  }

  close(): void {
    this.#off();
    if (this.#timer) clearInterval(this.#timer);
  }

  #entry(tool: string): { hash: string; approved_by: string; approved_at: string } {
    const e = this.local.get(tool)!;
    return { hash: e.hash, approved_by: e.approved_by, approved_at: e.approved_at };
  }

  /** Publishes a first-use pin unless another instance pinned the tool first (then adopts that). */
  async #share(pin: SharedPin): Promise<void> {
    try {
      const held = parsePin(await this.#store.setIfAbsent(keyOf(pin.tool), JSON.stringify(pin), PIN_TTL_MS));
      if (held) {
        this.#adopt(held);
        return;
      }
      await this.#store.indexAdd(INDEX, pin.tool, Date.parse(pin.approved_at), PIN_TTL_MS);
      await this.#store.appendLog(LOG, JSON.stringify(pin), 100);
    } catch (e) {
      this.#warn(`first-use pin of '${pin.tool}' not shared: ${errorMessage(e)}`);
    }
  }

  /** Makes the shared pin the lock's approved one, when it is not already. */
  #adopt(pin: SharedPin): void {
    try {
      if (this.local.get(pin.tool)?.hash !== pin.hash)
        this.local.approveHash(pin.tool, pin.hash, pin.approved_by);
    } catch (e) {
      this.#warn(`shared pin of '${pin.tool}' not adopted: ${errorMessage(e)}`);
    }
  }
}
