/** `portcullis serve`: HTTP (MCP Streamable HTTP, REST, model API) on the configured address. */

import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Command } from "../../cli.js";
import { loadConfig } from "../../gateway/config/load.js";

export const serveCommand: Command = {
  summary: "Serve MCP over Streamable HTTP and the HTTP gateway",
  usage: "Usage: portcullis serve [--config FILE] [--host H] [--port P]",
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: "string", short: "c" }, host: { type: "string" }, port: { type: "string" } },
    });
    const { config } = loadConfig(values.config);
    const host = values.host ?? config.server.host;
    const port = values.port ? Number(values.port) : config.server.port;
    const app = new Hono();
    app.get("/healthz", (c) => c.json({ ok: true }));
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      console.error(`portcullis: listening on http://${host}:${info.port}`);
    });
    await new Promise<void>((done) => {
      const stop = () => server.close(() => done());
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    return 0;
  },
};
