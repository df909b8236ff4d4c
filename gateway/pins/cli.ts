/**
 * `portcullis pin`: lists the pinned tool definitions of a lock file and approves the pending
 * (changed) definition of a tool, without contacting any upstream: the lock already holds the
 * hash the gateway last saw.
 */
import { userInfo } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Command } from "../../cli.js";
import { loadConfig } from "../config/load.js";
import { UsageError } from "../errors.js";
import { RedisStore } from "../store/redis.js";
import { SharedPins } from "./shared.js";
import { lockPathFor, PinStore } from "./store.js";

const USAGE = `Usage:
  portcullis pin --list [--lock FILE] [--config FILE] [--json]
  portcullis pin --approve <tool> [--by NAME] [--lock FILE] [--config FILE] [--store redis://…]

  --lock FILE    lock file (default: portcullis.lock beside the config file, else in the current folder)
  --approve T    accept the changed definition of tool T that the gateway last saw
  --by NAME      who approves (default: cli:<user name>)
  --store URL    also approve it for every instance sharing this store (default: the config's store)
  --list         print every pin and whether its tool changed`;

function who(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return "cli";
  }
}

export const pinCommand: Command = {
  summary: "List pinned tool definitions or approve a changed one",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        list: { type: "boolean" },
        approve: { type: "string" },
        by: { type: "string" },
        lock: { type: "string" },
        config: { type: "string", short: "c" },
        json: { type: "boolean" },
        store: { type: "string" },
      },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'\n\n${USAGE}`);
    if (Boolean(values.list) === Boolean(values.approve)) {
      throw new UsageError(`give exactly one of --list or --approve <tool>\n\n${USAGE}`);
    }
    const loaded = values.lock ? undefined : loadConfig(values.config);
    const store = PinStore.open(values.lock ? resolve(values.lock) : lockPathFor(loaded!.baseDir));
    const storeUrl = values.store ?? loaded?.config.store;
    if (values.approve && storeUrl) {
      const shared = await RedisStore.open({ url: storeUrl, onStateChange: () => {} });
      try {
        const pins = await SharedPins.open(store, shared, { syncMs: 0 });
        const pin = await pins.approvePending(values.approve, values.by ?? who());
        pins.close();
        console.log(
          `${values.approve}: approved ${pin.hash} for every instance (by ${pin.approved_by} at ${pin.approved_at})`,
        );
      } finally {
        await shared.close();
      }
      return 0;
    }
    if (values.approve) {
      const pin = store.approvePending(values.approve, values.by ?? who());
      console.log(`${values.approve}: approved ${pin.hash} (by ${pin.approved_by} at ${pin.approved_at})`);
      return 0;
    }
    const pins = store.list();
    if (values.json) {
      console.log(JSON.stringify(pins, null, 2));
      return 0;
    }
    if (pins.length === 0) {
      console.log(`${store.path}: no pinned tools`);
      return 0;
    }
    const width = Math.max(4, ...pins.map((p) => p.tool.length));
    console.log(`${"TOOL".padEnd(width)}  STATE     PINNED        APPROVED BY`);
    for (const p of pins) {
      const state = p.pending_hash ? "changed" : "pinned";
      const pending = p.pending_hash
        ? `  (pending ${p.pending_hash.slice(0, 12)} since ${p.pending_since})`
        : "";
      console.log(
        `${p.tool.padEnd(width)}  ${state.padEnd(8)}  ${p.hash.slice(0, 12)}  ${p.approved_by} at ${p.approved_at}${pending}`,
      );
    }
    return 0;
  },
};
