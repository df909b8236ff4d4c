/**
 * MCP over stdio (2025-11-25 era): one session for the life of the process, trusted as the
 * configured local principal. stdout carries only protocol messages; diagnostics go to stderr.
 * Plain tool calls take the session's fast path (`plain-call.ts`) straight from the line reader;
 * everything else goes through the SDK server.
 */
import { randomUUID } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import type { Pipeline } from "../../gateway/pipeline/pipeline.js";
import { AfterReply, isPlainToolCall } from "./plain-call.js";
import { createSession } from "./session.js";
import { StdioLineTransport } from "./stdio-transport.js";

/** A `notifications/cancelled` message's request id, if it is one. */
function cancelledId(message: unknown): string | number | undefined {
  const m = message as { method?: unknown; params?: { requestId?: unknown } };
  if (m.method !== "notifications/cancelled") return undefined;
  const id = m.params?.requestId;
  return typeof id === "string" || typeof id === "number" ? id : undefined;
}

/** Serves the pipeline on the given streams until the input ends; resolves when closed. */
export async function serveStdio(
  pipeline: Pipeline,
  io: { stdin: Readable; stdout: Writable } = { stdin: process.stdin, stdout: process.stdout },
): Promise<void> {
  const { server, plain } = createSession({
    pipeline,
    transport: "stdio",
    session: randomUUID(),
    credentials: { kind: "stdio" },
  });
  const notify = (n: Parameters<typeof server.notification>[0]) => server.notification(n);
  const transport = new StdioLineTransport(
    io.stdin,
    io.stdout,
    (message) => {
      if (isPlainToolCall(message, server.getClientCapabilities())) {
        // A reused id of a call still running is the SDK's to reject, as before.
        if (plain.has(message.id)) return false;
        // Work nobody waits on (the call.completed event) runs once the reply is on its way.
        const after = new AfterReply();
        void plain
          .answer(message, { notify, afterReply: after.add })
          .then((reply) => {
            const sent = reply ? transport.send(reply) : undefined;
            after.run();
            return sent;
          })
          // A reply that cannot be written (the client's end closed) is reported, not thrown.
          .catch((e: unknown) => transport.onerror?.(e instanceof Error ? e : new Error(String(e))));
        return true;
      }
      const cancelled = cancelledId(message);
      if (cancelled !== undefined)
        return plain.cancel(cancelled, (message as { params?: { reason?: unknown } }).params?.reason);
      return false;
    },
    () => plain.running > 0,
  );
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    io.stdin.once("end", () => void server.close().then(resolve, resolve));
  });
  await server.connect(transport);
  await closed;
}
