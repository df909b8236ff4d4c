/**
 * `DirectToolCalls` over an in-memory transport, against what the SDK client's `request` does:
 * own string ids, responses taken off the transport (everything else reaches the client's
 * handler), text results as sent, other results through the schema, error responses as McpError
 * with code and data, abort → `notifications/cancelled` + RequestTimeout McpError, close →
 * ConnectionClosed for every pending call.
 */
import { getEventListeners } from "node:events";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, type JSONRPCMessage, McpError } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { CallAbort } from "./call-abort.js";
import { DirectFraming, DirectToolCalls } from "./direct-call.js";

function wire() {
  const sent: JSONRPCMessage[] = [];
  const passed: JSONRPCMessage[] = [];
  let closed = 0;
  const transport: Transport = {
    start: async () => {},
    close: async () => transport.onclose?.(),
    send: async (m) => {
      sent.push(m);
    },
    onmessage: (m) => passed.push(m),
    onclose: () => {
      closed++;
    },
  };
  const direct = new DirectToolCalls(transport);
  const reply = (m: object) => transport.onmessage?.({ jsonrpc: "2.0", ...m } as JSONRPCMessage);
  return { transport, direct, sent, passed, reply, closed: () => closed };
}

describe("direct tool calls on an upstream's transport", () => {
  it("sends tools/call with its own id and resolves with the matching response", async () => {
    const w = wire();
    const call = w.direct.call({ name: "echo", arguments: { m: 1 } }, new AbortController().signal);
    const req = w.sent[0] as { id: string; method: string; params: unknown };
    expect(req).toMatchObject({ method: "tools/call", params: { name: "echo", arguments: { m: 1 } } });
    expect(req.id).toMatch(/^portcullis-\d+$/);
    w.reply({ id: 7, result: {} }); // the client's own numeric id: not ours
    w.reply({ method: "notifications/message", params: { level: "info", data: "x" } });
    w.reply({ id: req.id, result: { content: [{ type: "text", text: "hi" }] } });
    await expect(call).resolves.toEqual({ content: [{ type: "text", text: "hi" }] });
    expect(w.passed).toHaveLength(2);
  });

  it("parses other results with the schema (defaults filled, bad shapes refused)", async () => {
    const w = wire();
    const signal = new AbortController().signal;
    const a = w.direct.call({ name: "t" }, signal);
    const b = w.direct.call({ name: "t" }, signal);
    const [ida, idb] = w.sent.map((m) => (m as { id: string }).id);
    w.reply({ id: ida, result: { structuredContent: { n: 1 } } });
    w.reply({ id: idb, result: { content: "not an array" } });
    await expect(a).resolves.toEqual({ content: [], structuredContent: { n: 1 } });
    await expect(b).rejects.toBeTruthy();
  });

  it("turns an error response into an McpError with the upstream's code and data", async () => {
    const w = wire();
    const call = w.direct.call({ name: "t" }, new AbortController().signal);
    w.reply({
      id: (w.sent[0] as { id: string }).id,
      error: { code: -32602, message: "no tool", data: { x: 1 } },
    });
    const e = await call.catch((err: unknown) => err);
    expect(e).toBeInstanceOf(McpError);
    expect(e).toMatchObject({ code: -32602, data: { x: 1 }, message: "MCP error -32602: no tool" });
  });

  it("cancels on abort and rejects like the SDK client", async () => {
    const w = wire();
    const ctl = new AbortController();
    const call = w.direct.call({ name: "t" }, ctl.signal);
    ctl.abort("user said stop");
    const e = await call.catch((err: unknown) => err);
    expect(e).toMatchObject({ code: ErrorCode.RequestTimeout });
    expect(w.sent[1]).toMatchObject({
      method: "notifications/cancelled",
      params: { requestId: (w.sent[0] as { id: string }).id, reason: "user said stop" },
    });
    const timeout = new McpError(ErrorCode.InternalError, "own reason");
    const ctl2 = new AbortController();
    const second = w.direct.call({ name: "t" }, ctl2.signal);
    ctl2.abort(timeout);
    await expect(second).rejects.toBe(timeout);
    const already = new AbortController();
    already.abort("before");
    await expect(w.direct.call({ name: "t" }, already.signal)).rejects.toBe("before");
  });

  it("takes a CallAbort like a signal: cancels on abort, leaves nothing registered after an answer", async () => {
    const w = wire();
    const abort = new CallAbort();
    const answered = w.direct.call({ name: "t" }, abort);
    w.reply({ id: (w.sent[0] as { id: string }).id, result: { content: [] } });
    await expect(answered).resolves.toEqual({ content: [] });
    const cancelled = w.direct.call({ name: "t" }, abort);
    abort.abort("idle too long");
    await expect(cancelled).rejects.toMatchObject({ code: ErrorCode.RequestTimeout });
    expect(w.sent[2]).toMatchObject({
      method: "notifications/cancelled",
      params: { requestId: (w.sent[1] as { id: string }).id, reason: "idle too long" },
    });
    // The answered call unregistered its callback: the abort reached only the second call.
    expect(w.sent).toHaveLength(3);
    await expect(w.direct.call({ name: "t" }, abort)).rejects.toBe("idle too long");
  });

  it("removes its abort listener from the call's signal once answered", async () => {
    const w = wire();
    const signal = new AbortController().signal;
    for (let i = 0; i < 20; i++) {
      const call = w.direct.call({ name: "t" }, signal);
      w.reply({ id: (w.sent[i] as { id: string }).id, result: { content: [] } });
      await call;
    }
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
  });

  it("fails every pending call when the transport closes, and later calls at once", async () => {
    const w = wire();
    const signal = new AbortController().signal;
    const pending = [w.direct.call({ name: "a" }, signal), w.direct.call({ name: "b" }, signal)];
    await w.transport.close();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: ErrorCode.ConnectionClosed });
    expect(w.closed()).toBe(1);
    await expect(w.direct.call({ name: "c" }, signal)).rejects.toMatchObject({
      code: ErrorCode.ConnectionClosed,
    });
  });
});

describe("own framing of the upstream's stdout", () => {
  const line = (m: object) => Buffer.from(`${JSON.stringify({ jsonrpc: "2.0", ...m })}\n`);

  it("splits lines across chunks (CR tolerated) and parses foreign messages with the schema", () => {
    const f = new DirectFraming(() => false);
    const bytes = Buffer.concat([
      line({ id: 3, result: {} }),
      Buffer.from('{"jsonrpc":"2.0","method":"x"}\r\n'),
    ]);
    f.append(bytes.subarray(0, 10));
    expect(f.readMessage()).toBeNull();
    f.append(bytes.subarray(10));
    expect(f.readMessage()).toEqual({ jsonrpc: "2.0", id: 3, result: {} });
    expect(f.readMessage()).toEqual({ jsonrpc: "2.0", method: "x" });
    expect(f.readMessage()).toBeNull();
    f.append(line({ id: 4, result: {}, extra: 1 }));
    expect(() => f.readMessage()).toThrow(); // the message schema is strict
    f.append(Buffer.from('{"jsonrpc":"1.0","id":5,"result":{}}\n'));
    expect(() => f.readMessage()).toThrow();
    f.append(Buffer.from("not json\n"));
    expect(() => f.readMessage()).toThrow(SyntaxError);
  });

  it("hands a response to a pending id over as parsed, and checks its shape", () => {
    const f = new DirectFraming((id) => id.startsWith("portcullis-"));
    f.append(line({ id: "portcullis-1", result: { content: [], extra: 1 } }));
    expect(f.readMessage()).toEqual({
      jsonrpc: "2.0",
      id: "portcullis-1",
      result: { content: [], extra: 1 },
    });
    f.append(line({ id: "portcullis-2", error: { code: -32000, message: "boom" } }));
    expect(f.readMessage()).toMatchObject({ error: { code: -32000, message: "boom" } });
    f.append(line({ id: "portcullis-3", error: { code: "bad" } }));
    expect(() => f.readMessage()).toThrow(); // malformed error: the schema refuses it
    f.append(line({ id: "portcullis-4", result: {}, extra: 1 }));
    expect(() => f.readMessage()).toThrow(); // unknown top-level key: the schema decides (refuses)
  });

  it("refuses more buffered bytes than the limit and starts over", () => {
    const f = new DirectFraming(() => false, 16);
    expect(() => f.append(Buffer.alloc(17, 0x20))).toThrow(/maximum size/);
    expect(f.readMessage()).toBeNull();
  });

  it("replaces a stdio transport's read buffer, keeping bytes it already held", async () => {
    const transport = {
      _readBuffer: {
        _buffer: Buffer.from('{"jsonrpc":"2.0",'),
        append() {},
        readMessage: () => null,
        clear() {},
      },
      start: async () => {},
      close: async () => {},
      send: async () => {},
    } as unknown as Transport & { _readBuffer: DirectFraming };
    const direct = new DirectToolCalls(transport);
    expect(transport._readBuffer).toBeInstanceOf(DirectFraming);
    const call = direct.call({ name: "echo" }, new AbortController().signal);
    transport._readBuffer.append(Buffer.from('"id":"portcullis-1","result":{"content":[]}}\n'));
    const msg = transport._readBuffer.readMessage();
    expect(msg).toEqual({ jsonrpc: "2.0", id: "portcullis-1", result: { content: [] } });
    transport.onmessage?.(msg!);
    await expect(call).resolves.toEqual({ content: [] });
  });
});
