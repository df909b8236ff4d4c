/**
 * Shared state for one or several gateway instances: `openStore(url?)` gives the in-process
 * `MemoryStore` without a URL and a `RedisStore` for `redis://…`; see types.ts for the port.
 */
import type { Clock } from "../clock.js";
import { MemoryStore } from "./memory.js";
import { RedisStore } from "./redis.js";
import type { SharedStore } from "./types.js";

export { MemoryStore, type MemoryStoreOptions } from "./memory.js";
export { parseStoreUrl, RedisStore, type RedisStoreOptions } from "./redis.js";
export type { LogEntry, LogListener, SharedStore, StoreStatus, TokenTake } from "./types.js";

/** The store a configuration asks for (`store` / `--store`); memory when none is set. */
export async function openStore(url: string | undefined, opts: { clock?: Clock } = {}): Promise<SharedStore> {
  if (url === undefined || url === "") return new MemoryStore(opts.clock ? { clock: opts.clock } : {});
  return RedisStore.open({ url });
}
