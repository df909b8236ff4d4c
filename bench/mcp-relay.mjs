/**
 * The floor of any stdio MCP proxy, for the benchmark's (c)/(d) comparison: a process that starts
 * the echo upstream and relays newline-delimited JSON-RPC both ways, parsing and re-serialising
 * each message and doing nothing else (no policy, no audit, no schema). It exits when its input
 * ends, after the upstream.
 */
import { spawn } from "node:child_process";

const [command, ...args] = process.argv.slice(2);
const upstream = spawn(command, args, { stdio: ["pipe", "pipe", "ignore"] });

function relay(from, to) {
  let pending = "";
  from.on("data", (chunk) => {
    pending += chunk.toString("utf8");
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.trim()) to.write(`${JSON.stringify(JSON.parse(line))}\n`);
    }
  });
}

relay(process.stdin, upstream.stdin);
relay(upstream.stdout, process.stdout);
process.stdin.on("end", () => upstream.stdin.end());
upstream.on("exit", () => process.exit(0));
