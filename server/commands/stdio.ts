/**
 * `portcullis stdio`: serves MCP on stdin/stdout for an IDE or desktop assistant that launches the
 * gateway as its MCP server. The caller is the trusted local principal from `auth.stdioPrincipal`.
 * Diagnostics go to stderr; upstream children are stopped when the client closes the stream.
 */
import { parseArgs } from "node:util";
import type { Command } from "../../cli.js";
import { loadConfig } from "../../gateway/config/load.js";
import { serveStdio } from "../mcp/stdio.js";
import { createRuntime } from "../runtime.js";
import { createServices } from "../services.js";

export const stdioCommand: Command = {
  summary: "Serve MCP over stdio (for IDEs and desktop assistants)",
  usage: "Usage: portcullis stdio [--config FILE]",
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { config: { type: "string", short: "c" } } });
    const { config, baseDir } = loadConfig(values.config);
    const services = await createServices(config, baseDir);
    const runtime = createRuntime(config, baseDir, services);
    const stop = () => void runtime.close().finally(() => process.exit(0));
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    try {
      await serveStdio(runtime.pipeline);
    } finally {
      await runtime.close();
    }
    return 0;
  },
};
