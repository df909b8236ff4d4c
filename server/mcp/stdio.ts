/**
 * MCP over stdio (2025-11-25 era): one session for the life of the process, trusted as the
 * configured local principal. stdout carries only protocol messages; diagnostics go to stderr.
 */
import { randomUUID } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Pipeline } from "../../gateway/pipeline/pipeline.js";
import { createSessionServer } from "./session.js";

/** Serves the pipeline on the given streams until the input ends; resolves when closed. */
export async function serveStdio(
  pipeline: Pipeline,
  io: { stdin: Readable; stdout: Writable } = { stdin: process.stdin, stdout: process.stdout },
): Promise<void> {
  const server = createSessionServer({
    pipeline,
    transport: "stdio",
    session: randomUUID(),
    credentials: { kind: "stdio" },
  });
  const transport = new StdioServerTransport(io.stdin, io.stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    io.stdin.once("end", () => void server.close().then(resolve, resolve));
  });
  await server.connect(transport);
  await closed;
}
