/**
 * The `/mcp` fast lane (fast-lane.ts) over real sockets, against hono's listener for the same app:
 * two servers share one `createApp` (so one set of sessions), and every request is sent to both —
 * the answers must match in status, header set (apart from `Date`) and body, while the lane's
 * counters show which requests it took. A stdio echo upstream gives deterministic tool results.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRequestListener } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyData as buildPolicyData } from "../../conformance/policy/settings.js";
import { validateConfig } from "../../gateway/config/load.js";
import { createKey, keyFilePath, revokeKey } from "../auth/key-store.js";
import { createApp } from "../commands/serve.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { createServices } from "../services.js";
import type { FastLane } from "./fast-lane.js";

const echo = join(import.meta.dirname, "../../bench/mcp-echo-server.mjs");
const BOB = "fast-lane-key-bob-1";
const CAROL = "fast-lane-key-carol-2";
const policyData = buildPolicyData([{ id: "allow-all", effect: "allow" }], {
  ask: { destructive: false, open_world: false },
  secrets: { classes: ["secret"], action: "allow" },
  models: { allowed: ["*"], local_only_classes: [] },
});

let dir: string;
const runtimes: Runtime[] = [];
const apps: ReturnType<typeof createApp>[] = [];
const servers: Server[] = [];

/** One app served twice: by hono's listener alone and by the fast lane in front of it. */
interface Gateway {
  lane: FastLane;
  honoPort: number;
  lanePort: number;
  /** The stored-key file (`portcullis keys create`) of this gateway. */
  keyFile: string;
}
let keyed: Gateway;
let storedMcpKey: string;
let loopback: Gateway;

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return (server.address() as AddressInfo).port;
}

async function start(auth: Record<string, unknown>, folder: string): Promise<Gateway> {
  const config = validateConfig({
    auth,
    mcpServers: { up: { command: process.execPath, args: [echo, "--stdio"], prefix: "" } },
    server: { maxBodyBytes: 4096, maxJsonDepth: 16 },
    audit: { dir: "audit" },
  });
  const keyFile = keyFilePath(config, join(dir, folder));
  // A stored key restricted to MCP: the outer layer is on and checks scopes.
  if (folder === "keyed") storedMcpKey = createKey(keyFile, { id: "erin", scopes: ["mcp"] }).key;
  const services = await createServices(config, join(dir, folder), { policyData });
  const runtime = createRuntime(config, join(dir, folder), services);
  runtimes.push(runtime);
  const app = createApp({ runtime, services });
  apps.push(app);
  const lane = app.fastLane("127.0.0.1");
  const honoPort = await listen(createServer(getRequestListener(app.app.fetch, { hostname: "127.0.0.1" })));
  return { lane, honoPort, lanePort: await listen(createServer(lane.listener)), keyFile };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "portcullis-fast-lane-"));
  mkdirSync(join(dir, "keyed"));
  mkdirSync(join(dir, "loopback"));
  process.env.PORTCULLIS_FAST_LANE_BOB = BOB;
  process.env.PORTCULLIS_FAST_LANE_CAROL = CAROL;
  keyed = await start(
    {
      apiKeys: [
        { id: "bob", key: "env:PORTCULLIS_FAST_LANE_BOB" },
        { id: "carol", key: "env:PORTCULLIS_FAST_LANE_CAROL" },
      ],
    },
    "keyed",
  );
  // No credential configured: the outer layer is off and the MCP gate trusts loopback (the bench).
  loopback = await start({ localHttpPrincipal: "local" }, "loopback");
}, 30_000);

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const app of apps) await app.close();
  for (const runtime of runtimes) await runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  /** Lower-cased names, `Date` left out (it is the only header that differs by when). */
  headers: Record<string, string>;
  body: string;
}

/** One POST with exactly these headers (a null value leaves a header out). */
function post(
  port: number,
  headers: Record<string, string | string[] | null>,
  body: string,
  path = "/mcp",
): Promise<Answer> {
  const sent: Record<string, string | string[]> = {
    // One Host for both servers: answers that name the resource's URL must not differ by port.
    host: "127.0.0.1:3000",
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "content-length": String(Buffer.byteLength(body)),
  };
  for (const [k, v] of Object.entries(headers)) {
    if (v === null) delete sent[k];
    else sent[k] = v;
  }
  return new Promise((done, fail) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: "POST", headers: sent, timeout: 10_000, agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => {
          const h: Record<string, string> = {};
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = res.rawHeaders[i]!.toLowerCase();
            if (name !== "date")
              h[name] =
                h[name] === undefined ? res.rawHeaders[i + 1]! : `${h[name]}, ${res.rawHeaders[i + 1]!}`;
          }
          done({ status: res.statusCode ?? 0, headers: h, body: text });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", fail);
    req.end(body);
  });
}

/** SSE event ids name a random stream; everything else of a stream must match. */
const sameStream = (a: Answer) => ({ ...a, body: a.body.replace(/^id: .*$/gm, "id: _") });

const initialize = (caps: Record<string, unknown> = {}) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: caps, clientInfo: { name: "t", version: "1" } },
  });

/** Opens a session as `key` (none: loopback trust) through the lane's server (hono serves initialize). */
async function openSession(
  gw: Gateway,
  key: string | undefined,
  caps: Record<string, unknown> = {},
): Promise<Record<string, string>> {
  const auth: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
  const init = await post(gw.lanePort, auth, initialize(caps));
  expect(init.status).toBe(200);
  const h = {
    ...auth,
    "mcp-session-id": init.headers["mcp-session-id"]!,
    "mcp-protocol-version": "2025-11-25",
  };
  const initialized = JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" });
  expect((await post(gw.lanePort, h, initialized)).status).toBe(202);
  return h;
}

const call = (id: number, message: string) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "echo", arguments: { message } },
  });

/** Sends the same request to hono and to the lane; returns both answers and the lane's counts. */
async function both(
  gw: Gateway,
  headers: Record<string, string | string[] | null>,
  body: string,
  path?: string,
) {
  const taken = gw.lane.taken;
  const plain = gw.lane.plain;
  const viaHono = await post(gw.honoPort, headers, body, path);
  const viaLane = await post(gw.lanePort, headers, body, path);
  return { viaHono, viaLane, taken: gw.lane.taken - taken, plain: gw.lane.plain - plain };
}

describe("the /mcp fast lane over a socket", () => {
  it("answers a plain call itself, with hono's status, headers and body", async () => {
    const h = await openSession(keyed, BOB);
    const r = await both(keyed, h, call(7, "hello"));
    expect(r.viaHono.status).toBe(200);
    expect(JSON.parse(r.viaHono.body)).toMatchObject({ id: 7, result: { content: [{ text: "hello" }] } });
    expect(r.viaLane).toEqual(r.viaHono);
    expect(r.viaHono.headers["content-length"]).toBe(String(Buffer.byteLength(r.viaHono.body)));
    expect(r.plain).toBe(1);
    expect(r.taken).toBe(1);
    // A query string and a UTF-8 byte order mark: still the lane, still hono's answer.
    const q = await both(keyed, h, `\ufeff${call(8, "bom")}`, "/mcp?x=1");
    expect(q.viaLane).toEqual(q.viaHono);
    expect(q.viaLane.status).toBe(200);
    expect(q.plain).toBe(1);
  });

  it("serves other messages of a session through the route's logic, streams included", async () => {
    const h = await openSession(keyed, BOB);
    const list = await both(keyed, h, JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }));
    expect(list.viaHono.headers["content-type"]).toBe("text/event-stream");
    expect(sameStream(list.viaLane)).toEqual(sameStream(list.viaHono));
    expect(list.viaLane.body).toContain('"name":"echo"');
    expect(list).toMatchObject({ taken: 1, plain: 0 });
    // A client that may be asked (elicitation): its calls stream, from the lane's server too.
    const asking = await openSession(keyed, BOB, { elicitation: {} });
    const streamed = await both(keyed, asking, call(3, "s"));
    expect(streamed.viaHono.headers["content-type"]).toBe("text/event-stream");
    expect(sameStream(streamed.viaLane)).toEqual(sameStream(streamed.viaHono));
    expect(streamed).toMatchObject({ taken: 1, plain: 0 });
    const cancel = await both(
      keyed,
      h,
      JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 99 } }),
    );
    expect(cancel.viaLane).toEqual(cancel.viaHono);
    expect(cancel.viaLane.status).toBe(202);
  });

  it("refuses bad bodies as hono does (the lane reads them)", async () => {
    const h = await openSession(keyed, BOB);
    const deep = `{"jsonrpc":"2.0","id":1,"method":"x","params":${"[".repeat(20)}${"]".repeat(20)}}`;
    for (const [body, code] of [
      ["{not json", -32700],
      [deep, -32600],
      ["[]", -32600],
      ['{"jsonrpc":"1.0","id":1}', -32600],
      ["", -32700],
    ] as const) {
      const r = await both(keyed, h, body);
      expect(r.viaLane).toEqual(r.viaHono);
      expect(r.viaLane.status).toBe(400);
      expect(JSON.parse(r.viaLane.body)).toMatchObject({ error: { code } });
      expect(r).toMatchObject({ taken: 1, plain: 0 });
    }
    const version = await both(keyed, { ...h, "mcp-protocol-version": "1999-01-01" }, call(4, "v"));
    expect(version.viaLane).toEqual(version.viaHono);
    expect(version.viaLane.status).toBe(400);
    expect(version).toMatchObject({ taken: 1, plain: 0 });
  });

  it("leaves to hono what its headers do not admit, with hono's answers", async () => {
    const h = await openSession(keyed, BOB);
    const carol = await openSession(keyed, CAROL);
    const cases: [Record<string, string | string[] | null>, string, number][] = [
      // Repeated: node's own header object keeps the first Content-Type, `Headers.get` joins both.
      [{ ...h, "content-type": ["application/json", "text/plain"] }, call(5, "t"), 415],
      [{ ...h, "content-type": "text/plain" }, call(5, "t"), 415],
      [{ ...h, "mcp-session-id": "no-such-session" }, call(5, "t"), 404],
      [{ ...h, "mcp-session-id": carol["mcp-session-id"]! }, call(5, "t"), 404],
      [{ ...h, authorization: "Bearer wrong" }, call(5, "t"), 401],
      [{ ...h, authorization: null }, call(5, "t"), 401],
      [{ ...h, host: "evil.example" }, call(5, "t"), 403],
      [{ ...h, origin: "http://evil.example" }, call(5, "t"), 403],
      [{ ...h, "content-length": "5000" }, "x".repeat(5000), 413],
      [{ ...h, "content-length": null, "transfer-encoding": "chunked" }, "x".repeat(5000), 413],
      [{ ...h, "content-length": null, "transfer-encoding": "chunked" }, call(6, "chunked"), 200],
      [{ ...h, accept: "application/json" }, call(5, "t"), 406],
    ];
    for (const [headers, body, status] of cases) {
      const r = await both(keyed, headers, body);
      expect(r.viaLane).toEqual(r.viaHono);
      expect(r.viaLane.status).toBe(status);
      expect({ headers, taken: r.taken, plain: r.plain }).toEqual({ headers, taken: 0, plain: 0 });
    }
  });

  it("takes stored keys with the mcp scope, and applies the scope rule as the outer layer does", async () => {
    const h = await openSession(keyed, storedMcpKey);
    const r = await both(keyed, h, call(12, "stored"));
    expect(r.viaLane).toEqual(r.viaHono);
    expect(r.viaLane.status).toBe(200);
    expect(r).toMatchObject({ taken: 1, plain: 1 });
    // The same principal with a new key that lacks the scope: its live session must not admit it.
    revokeKey(keyed.keyFile, "erin");
    const narrow = createKey(keyed.keyFile, { id: "erin", scopes: ["tools:call"] }).key;
    await new Promise((settle) => setTimeout(settle, 300)); // the key file is re-read every 200 ms
    const refused = await both(keyed, { ...h, authorization: `Bearer ${narrow}` }, call(13, "narrow"));
    expect(refused.viaLane).toEqual(refused.viaHono);
    expect(refused.viaLane.status).toBe(403);
    expect(refused).toMatchObject({ taken: 0, plain: 0 });
  });

  /** The session's headers plus JSON content type and Accept, as raw HTTP/1.1 header lines. */
  const rawJsonHeaders = (h: Record<string, string>) =>
    Object.entries({
      ...h,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");

  it("reads a body that arrives in pieces, split inside a UTF-8 character", async () => {
    const h = await openSession(keyed, BOB);
    const { lane, lanePort } = keyed;
    const body = Buffer.from(call(11, "caf\u00e9 \u2713"));
    const cut = body.indexOf(0xc3) + 1;
    const plain = lane.plain;
    const head = rawJsonHeaders(h);
    const answer = await new Promise<string>((done, fail) => {
      let text = "";
      const socket = connect(lanePort, "127.0.0.1", () => {
        socket.write(
          `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\n${head}connection: close\r\ncontent-length: ${body.length}\r\n\r\n`,
        );
        socket.write(body.subarray(0, cut));
        setTimeout(() => socket.write(body.subarray(cut)), 30);
      });
      socket.setEncoding("utf8");
      socket.setTimeout(10_000, () => socket.destroy(new Error("timed out")));
      socket.on("data", (c: string) => {
        text += c;
      });
      socket.on("end", () => done(text));
      socket.on("error", fail);
    });
    expect(answer.startsWith("HTTP/1.1 200 OK")).toBe(true);
    const reply = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(reply).toMatchObject({ id: 11, result: { content: [{ text: "caf\u00e9 \u2713" }] } });
    expect(lane.plain).toBe(plain + 1);
  });

  it("survives a client that leaves mid-body", async () => {
    const h = await openSession(keyed, BOB);
    const { lane, lanePort } = keyed;
    const taken = lane.taken;
    await new Promise<void>((done, fail) => {
      const socket = connect(lanePort, "127.0.0.1", () => {
        const head = rawJsonHeaders(h);
        socket.write(
          `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${lanePort}\r\n${head}content-length: 200\r\n\r\n{"jsonrpc"`,
        );
        setTimeout(() => {
          socket.destroy();
          done();
        }, 50);
      });
      socket.on("error", fail);
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(lane.taken).toBe(taken + 1);
    const after = await post(lanePort, h, call(9, "still here"));
    expect(JSON.parse(after.body)).toMatchObject({ id: 9, result: { content: [{ text: "still here" }] } });
  });
});

describe("the /mcp fast lane with loopback trust (no credential configured)", () => {
  it("takes plain calls without Authorization and leaves refusals to hono", async () => {
    const h = await openSession(loopback, undefined);
    const r = await both(loopback, h, call(3, "local"));
    expect(r.viaLane).toEqual(r.viaHono);
    expect(JSON.parse(r.viaLane.body)).toMatchObject({ id: 3, result: { content: [{ text: "local" }] } });
    expect(r).toMatchObject({ taken: 1, plain: 1 });
    for (const authorization of ["Bearer not-a-key", "Basic abc"]) {
      const refused = await both(loopback, { ...h, authorization }, call(4, "x"));
      expect(refused.viaLane).toEqual(refused.viaHono);
      expect(refused.viaLane.status).toBe(401);
      expect(JSON.parse(refused.viaLane.body)).toMatchObject({ error: { code: -32001 } });
      expect(refused).toMatchObject({ taken: 0, plain: 0 });
    }
  });
});
