/** `portcullis check`: validates a config file and exits non-zero with precise errors. */
import { parseArgs } from "node:util";
import type { Command } from "../../cli.js";
import { loadConfig } from "./load.js";

export const checkCommand: Command = {
  summary: "Validate a configuration file",
  usage:
    "Usage: portcullis check [--config FILE]\n\n  --config FILE  portcullis.json or portcullis.yaml (default: ./portcullis.json|yaml, else the embedded default)",
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: "string", short: "c" } },
      allowPositionals: false,
    });
    const { config, file } = loadConfig(values.config);
    const upstreams = Object.keys(config.mcpServers).length;
    console.log(
      `${file ?? "embedded default"}: valid (${upstreams} upstream server${upstreams === 1 ? "" : "s"})`,
    );
    return 0;
  },
};
