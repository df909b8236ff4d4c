/**
 * The `portcullis` command line: one table of subcommands, each loaded on demand from the
 * folder that owns it. This file wires folders together and holds no logic of its own.
 */
import { errorMessage, isPortcullisError } from "./gateway/errors.js";

export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import("./server/commands/serve.js")).serveCommand,
  stdio: async () => (await import("./server/commands/stdio.js")).stdioCommand,
  check: async () => (await import("./gateway/config/cli.js")).checkCommand,
  audit: async () => (await import("./gateway/audit/cli.js")).auditCommand,
  pin: async () => (await import("./gateway/pins/cli.js")).pinCommand,
  policy: async () => (await import("./policies/cli.js")).policyCommand,
  bundle: async () => (await import("./policies/bundle/cli.js")).bundleCommand,
  keys: async () => (await import("./server/commands/keys.js")).keysCommand,
};

async function usage(): Promise<string> {
  const rows: string[] = [];
  for (const [name, load] of Object.entries(commands)) {
    try {
      rows.push(`  ${name.padEnd(8)} ${(await load()).summary}`);
    } catch {
      rows.push(`  ${name.padEnd(8)} (unavailable in this build)`);
    }
  }
  return [
    "Portcullis — policy-enforcing MCP server and tool gateway",
    "",
    "Usage: portcullis <command> [options]",
    "",
    "Commands:",
    ...rows,
    "",
    "Run 'portcullis <command> --help' for a command's options.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(await usage());
    return name ? 0 : 2;
  }
  if (name === "--version") {
    console.log("portcullis 0.1.0");
    return 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`portcullis: unknown command '${name}'\n\n${await usage()}`);
    return 2;
  }
  const cmd = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(`${cmd.summary}\n\n${cmd.usage}`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    console.error(`portcullis ${name}: ${isPortcullisError(e) ? e.message : errorMessage(e)}`);
    return isPortcullisError(e) && (e.code === "GW_ERR_USAGE" || e.code === "GW_ERR_CONFIG") ? 2 : 1;
  }
}
