/**
 * The upstream pool: one `Upstream` per enabled entry of the config's `mcpServers` (the shape users
 * paste from desktop assistants). Nothing starts until first use; `close()` stops every upstream and
 * waits until each stdio child has exited, so no process outlives the gateway's shutdown.
 */
import type { PortcullisConfig } from "../../gateway/config/schema.js";
import { prefixFor } from "../../gateway/registry/names.js";
import { Upstream, type UpstreamHealth } from "./upstream.js";

export interface UpstreamPoolOptions {
  baseDir: string;
  backoffMs?: number;
  maxBackoffMs?: number;
}

export class UpstreamPool {
  readonly upstreams: readonly Upstream[];

  constructor(servers: PortcullisConfig["mcpServers"], opts: UpstreamPoolOptions) {
    this.upstreams = Object.entries(servers)
      .filter(([, cfg]) => !cfg.disabled)
      .map(
        ([name, cfg]) =>
          new Upstream({
            name,
            config: cfg,
            prefix: prefixFor(name, cfg.prefix),
            baseDir: opts.baseDir,
            ...(opts.backoffMs !== undefined ? { backoffMs: opts.backoffMs } : {}),
            ...(opts.maxBackoffMs !== undefined ? { maxBackoffMs: opts.maxBackoffMs } : {}),
          }),
      );
  }

  get(name: string): Upstream | undefined {
    return this.upstreams.find((u) => u.name === name);
  }

  health(): UpstreamHealth[] {
    return this.upstreams.map((u) => u.health());
  }

  async close(): Promise<void> {
    await Promise.all(this.upstreams.map((u) => u.close()));
  }
}
