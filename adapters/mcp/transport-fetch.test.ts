import { getEventListeners } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transportFetch } from "./transport-fetch.js";

let server: Server;
let base: string;
/** Responses the "hold" routes keep open until the test ends. */
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/json") {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
      });
    } else if (req.url === "/hold-headers") {
      held.push(res);
    } else {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: first\n\n");
      held.push(res);
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("transportFetch", () => {
  it("keeps one abort listener on the transport's signal however many requests use it", async () => {
    const transport = new AbortController();
    const f = transportFetch();
    for (let i = 0; i < 300; i++) {
      const res = await f(`${base}/json`, { method: "POST", body: "{}", signal: transport.signal });
      expect(await res.json()).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
    }
    expect(getEventListeners(transport.signal, "abort")).toHaveLength(1);
  });

  it("aborts a request still waiting for its response when the transport's signal aborts", async () => {
    const transport = new AbortController();
    const pending = transportFetch()(`${base}/hold-headers`, { signal: transport.signal });
    await new Promise((r) => setTimeout(r, 50));
    transport.abort(new Error("transport closed"));
    await expect(pending).rejects.toThrow("transport closed");
  });

  it("aborts a body being read (an SSE stream) when the transport's signal aborts", async () => {
    const transport = new AbortController();
    const res = await transportFetch()(`${base}/stream`, { signal: transport.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("data: first\n\n");
    const next = reader.read();
    transport.abort(new Error("transport closed"));
    await expect(next).rejects.toThrow("transport closed");
  });

  it("passes requests without a signal, or with one already aborted, to fetch as they are", async () => {
    const f = transportFetch();
    const res = await f(`${base}/json`, { method: "POST", body: "{}" });
    expect(res.status).toBe(200);
    await res.text();
    const aborted = AbortSignal.abort(new Error("already"));
    await expect(f(`${base}/json`, { signal: aborted })).rejects.toThrow("already");
  });
});
