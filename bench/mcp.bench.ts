/**
 * MCP tool-call latency and throughput, direct vs through Portcullis, measured side by side:
 * 2,000 sequential `echo` calls by the SDK client (a) against an SDK Streamable HTTP server,
 * (b) through `portcullis serve` over HTTP with that server's stdio twin as upstream, policy and
 * audit on (group commit; and again with `audit.sync: always`), (c) over stdio directly and
 * (d) through `portcullis stdio`, next to a relay that only re-frames the JSON lines (the floor of
 * any stdio proxy: two more pipe hops). Then calls/s with 32 concurrent HTTP clients for (a), (b).
 * The sequential variants run interleaved, in turns of 100 calls each, so that a change of the
 * machine's load mid-run reaches all of them alike. Each variant makes 5,200 calls: 200 unrecorded,
 * 2,000 recorded for the target rows (the 2,000 calls, with every process's JIT still
 * compiling: the gateway's V8 does most of its ~400 optimisations within its first ~4,000 calls),
 * 1,000 unrecorded, and 2,000 recorded again for the steady-state row, the state a long-running
 * gateway serves in (there the SDK's own stdio pair gets so fast that even the bare relay is
 * above d/c 2.5).
 * Every process started here is stopped before `run()` resolves. `PORTCULLIS_BENCH_GATEWAY_FLAGS`
 * (space-separated node flags, e.g. `--cpu-prof --cpu-prof-dir=prof`) are given to every gateway
 * process, for profiling the gateway under the bench's load.
 *
 * Fairness: (a) is the SDK server with its defaults, which answers every POST with an SSE stream.
 * Portcullis answers a tool call that can send nothing before its result (no progress token, a
 * client without elicitation or sampling — as here) with a plain JSON body, which the spec allows
 * whenever the client accepts both; calls with progress or that may ask the client still stream.
 * The bench client is the same SDK client for both and accepts both response types.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { transportFetch } from "../adapters/mcp/transport-fetch.js";
import type { BenchResult } from "./types.js";

// Compiled to dist/bench/: the repository root is two folders up.
const root = resolve(import.meta.dirname, "../..");
const echo = join(root, "bench/mcp-echo-server.mjs");
const relay = join(root, "bench/mcp-relay.mjs");
const cli = join(root, "bin/portcullis.js");
const SEQUENTIAL = 2_000;
const WARMUP = 200;
/** Unrecorded calls between the target measurement and the steady-state one. */
const SETTLE = 1_000;
/** Calls per turn of the interleaved sequential measurement. */
const BLOCK = 100;
const CONCURRENT_CLIENTS = 32;
const CONCURRENT_CALLS = 3_200;
const gatewayFlags = (process.env.PORTCULLIS_BENCH_GATEWAY_FLAGS ?? "").split(" ").filter(Boolean);

function started(cmd: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((done, fail) => {
    let log = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`did not start: ${args.join(" ")}\n${log}`));
    }, 20_000);
    const onData = (c: Buffer) => {
      log += c.toString();
      const m = ready.exec(log);
      if (m) {
        clearTimeout(timer);
        done({ child, port: Number(m[1]) });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
  });
}

async function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exit;
  clearTimeout(timer);
}

async function httpClient(port: number): Promise<Client> {
  const client = new Client({ name: "bench", version: "1.0.0" });
  // The same fetch for (a) and (b): node's own piles one abort listener per request onto the
  // transport's signal, and the warnings it then prints cost the bench process time.
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
      fetch: transportFetch(),
    }) as Transport,
  );
  return client;
}

async function stdioClient(command: string, args: string[]): Promise<{ client: Client; pid: number | null }> {
  const client = new Client({ name: "bench", version: "1.0.0" });
  const transport = new StdioClientTransport({ command, args, cwd: root, stderr: "ignore" });
  await client.connect(transport);
  return { client, pid: transport.pid };
}

interface Latency {
  p50: number;
  p99: number;
  perSecond: number;
  /** CPU (user + system) of the process `pid` per measured call, µs; undefined without /proc. */
  cpuPerCall?: number;
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ; 100 on every common Linux). */
const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process in µs, from /proc (Linux); undefined elsewhere. */
function cpuTime(pid: number | null | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks;
  } catch {
    return undefined;
  }
}

/**
 * One variant of the sequential measurement: a connected client, the process it measures, and
 * what the current phase has recorded.
 */
interface Variant {
  client: Client;
  pid?: number | null | undefined;
  times: number[];
  cpu: number;
  wall: number;
}

function variant(client: Client, pid?: number | null): Variant {
  return { client, pid, times: [], cpu: 0, wall: 0 };
}

async function callBlock(v: Variant, tool: string, from: number, n: number, record: boolean): Promise<void> {
  const cpu0 = record ? cpuTime(v.pid) : undefined;
  const t0 = performance.now();
  for (let i = from; i < from + n; i++) {
    const s = performance.now();
    const r = await v.client.callTool({ name: tool, arguments: { message: `m${i}` } });
    if (record) v.times.push(performance.now() - s);
    if (r.isError) throw new Error(`call failed: ${JSON.stringify(r.content)}`);
  }
  if (!record) return;
  v.wall += performance.now() - t0;
  const cpu1 = cpuTime(v.pid);
  if (cpu0 !== undefined && cpu1 !== undefined) v.cpu += cpu1 - cpu0;
  else v.cpu = Number.NaN;
}

/**
 * `count` sequential calls on every variant (numbered from `from`), interleaved: blocks of BLOCK
 * calls take turns (a, b, c, …, a, b, c, …), so a change in the machine's load during the run
 * (the usual state of a shared machine) reaches every variant alike and the ratios compare like
 * with like. `record` keeps the figures of these calls (and only these) on each variant.
 */
async function turns(variants: Variant[], tool: string, from: number, count: number, record: boolean) {
  for (const v of variants) Object.assign(v, { times: [], cpu: 0, wall: 0 });
  for (let done = 0; done < count; done += BLOCK)
    for (const v of variants) await callBlock(v, tool, from + done, Math.min(BLOCK, count - done), record);
}

/** `turns` recorded: each variant's figures over these calls. */
async function measured(variants: Variant[], tool: string, from: number, count: number): Promise<Latency[]> {
  await turns(variants, tool, from, count, true);
  return variants.map((v) => {
    const times = [...v.times].sort((a, b) => a - b);
    return {
      p50: times[Math.floor(times.length * 0.5)]!,
      p99: times[Math.floor(times.length * 0.99)]!,
      perSecond: count / (v.wall / 1000),
      ...(Number.isFinite(v.cpu) && v.pid ? { cpuPerCall: v.cpu / count } : {}),
    };
  });
}

async function concurrent(port: number, tool: string): Promise<number> {
  const clients = await Promise.all(Array.from({ length: CONCURRENT_CLIENTS }, () => httpClient(port)));
  const per = CONCURRENT_CALLS / CONCURRENT_CLIENTS;
  const loop = async (c: Client, n: number) => {
    for (let i = 0; i < n; i++) await c.callTool({ name: tool, arguments: { message: `c${i}` } });
  };
  await Promise.all(clients.map((c) => loop(c, 10)));
  const t0 = performance.now();
  await Promise.all(clients.map((c) => loop(c, per)));
  const rate = CONCURRENT_CALLS / ((performance.now() - t0) / 1000);
  await Promise.all(clients.map((c) => c.close()));
  return rate;
}

function gatewayConfig(dir: string, sync: "group" | "always", tag: string): string {
  const file = join(dir, `portcullis-${tag}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      server: { port: 0 },
      auth: { localHttpPrincipal: "bench" },
      mcpServers: { up: { command: process.execPath, args: [echo, "--stdio"], prefix: "" } },
      policy: { data: join(root, "conformance/policy/allow-all.data.json") },
      audit: { dir: join(dir, `audit-${tag}`), sync },
    }),
  );
  return file;
}

const round = (n: number, d = 3) => Number(n.toFixed(d));

/**
 * CPU per call of the process in the middle, the steadiest figure on a shared machine: the HTTP
 * server in (a) and the gateway in (b) (upstream excluded), the echo server in (c), the gateway in
 * (d) (upstream excluded) and the relay. Empty where /proc is not there.
 */
function cpuRow(a: Latency, b: Latency, c: Latency, d: Latency, r: Latency): BenchResult[] {
  const all = { a, b, c, d, relay: r };
  const figures: Record<string, number> = {};
  for (const [k, v] of Object.entries(all))
    if (v.cpuPerCall !== undefined) figures[k] = round(v.cpuPerCall, 0);
  if (Object.keys(figures).length < 5) return [];
  return [
    {
      name: "mcp: CPU per sequential call of the serving process",
      unit: "µs",
      figures,
      ratios: {
        "b/a": round(b.cpuPerCall! / a.cpuPerCall!, 2),
        "d/relay": round(d.cpuPerCall! / r.cpuPerCall!, 2),
      },
      notes: `utime+stime from /proc/<pid>/stat over the ${SEQUENTIAL} calls (tick ${1000 / clockTicks} ms); (b), (d) exclude the upstream process, (c) is the upstream itself`,
    },
  ];
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-bench-mcp-"));
  const children: ChildProcess[] = [];
  try {
    const direct = await started(process.execPath, [echo, "--port", "0"], /LISTENING (\d+)/);
    children.push(direct.child);
    const gwGroup = await started(
      process.execPath,
      [...gatewayFlags, cli, "serve", "--config", gatewayConfig(dir, "group", "http")],
      /listening on http:\/\/[^:]+:(\d+)/,
    );
    children.push(gwGroup.child);
    const gwAlways = await started(
      process.execPath,
      [...gatewayFlags, cli, "serve", "--config", gatewayConfig(dir, "always", "http-always")],
      /listening on http:\/\/[^:]+:(\d+)/,
    );
    children.push(gwAlways.child);

    const aClient = await httpClient(direct.port);
    const bClient = await httpClient(gwGroup.port);
    const bAlwaysClient = await httpClient(gwAlways.port);
    const cClient = await stdioClient(process.execPath, [echo, "--stdio"]);
    const dClient = await stdioClient(process.execPath, [
      ...gatewayFlags,
      cli,
      "stdio",
      "--config",
      gatewayConfig(dir, "group", "stdio"),
    ]);
    // The floor of any stdio proxy: a relay that only parses and re-serialises each message.
    const rClient = await stdioClient(process.execPath, [relay, process.execPath, echo, "--stdio"]);
    const clients = [aClient, bClient, bAlwaysClient, cClient.client, dClient.client, rClient.client];
    type Six = [Latency, Latency, Latency, Latency, Latency, Latency];
    let a: Latency, b: Latency, bAlways: Latency, c: Latency, d: Latency, r: Latency;
    let steadyRun: Six;
    try {
      const variants = [
        variant(aClient, direct.child.pid),
        variant(bClient, gwGroup.child.pid),
        variant(bAlwaysClient),
        variant(cClient.client, cClient.pid),
        variant(dClient.client, dClient.pid),
        variant(rClient.client, rClient.pid),
      ];
      await turns(variants, "echo", 0, WARMUP, false);
      [a, b, bAlways, c, d, r] = (await measured(variants, "echo", WARMUP, SEQUENTIAL)) as Six;
      await turns(variants, "echo", WARMUP + SEQUENTIAL, SETTLE, false);
      steadyRun = (await measured(variants, "echo", WARMUP + SEQUENTIAL + SETTLE, SEQUENTIAL)) as Six;
    } finally {
      await Promise.all(clients.map((cl) => cl.close()));
    }
    const ca = await concurrent(direct.port, "echo");
    const cb = await concurrent(gwGroup.port, "echo");

    const steady = WARMUP + SEQUENTIAL + SETTLE;
    const notes = `calls ${WARMUP + 1}–${WARMUP + SEQUENTIAL} of each variant, interleaved in blocks of ${BLOCK}; (a) SSE responses (SDK default), (b) JSON responses for plain calls; policy: allow-all data`;
    const [sa, sb, , sc, sd, sr] = steadyRun;
    return [
      {
        name: "mcp: echo p50, HTTP direct (a) vs through Portcullis (b)",
        unit: "ms",
        figures: { a: round(a.p50), b: round(b.p50), "b sync=always": round(bAlways.p50) },
        ratios: { "b/a": round(b.p50 / a.p50, 2), "b_always/a": round(bAlways.p50 / a.p50, 2) },
        notes: `${notes}; target b/a ≤ 1.0`,
      },
      {
        name: "mcp: echo p99, HTTP direct (a) vs through Portcullis (b)",
        unit: "ms",
        figures: { a: round(a.p99), b: round(b.p99), "b sync=always": round(bAlways.p99) },
        ratios: { "b/a": round(b.p99 / a.p99, 2) },
      },
      {
        name: "mcp: echo p50, stdio direct (c) vs through Portcullis (d)",
        unit: "ms",
        figures: { c: round(c.p50), d: round(d.p50), "relay only": round(r.p50) },
        ratios: { "d/c": round(d.p50 / c.p50, 2), "relay/c": round(r.p50 / c.p50, 2) },
        notes: `${notes}; target d/c ≤ 2.5; "relay only" is a process that relays the JSON lines and does nothing else (the floor of any stdio proxy)`,
      },
      ...cpuRow(a, b, c, d, r),
      {
        name: "mcp: echo p50 in steady state (JIT warm), a b c d relay",
        unit: "ms",
        figures: {
          a: round(sa.p50),
          b: round(sb.p50),
          c: round(sc.p50),
          d: round(sd.p50),
          relay: round(sr.p50),
        },
        ratios: {
          "b/a": round(sb.p50 / sa.p50, 2),
          "d/c": round(sd.p50 / sc.p50, 2),
          "relay/c": round(sr.p50 / sc.p50, 2),
        },
        notes: `calls ${steady + 1}–${steady + SEQUENTIAL} of each variant, interleaved like the rows above; the gateway's CPU per call: ${sb.cpuPerCall === undefined ? "n/a" : round(sb.cpuPerCall, 0)} µs (b), ${sd.cpuPerCall === undefined ? "n/a" : round(sd.cpuPerCall, 0)} µs (d)`,
      },
      {
        name: "mcp: sequential calls/s",
        unit: "calls/s",
        figures: {
          a: round(a.perSecond, 0),
          b: round(b.perSecond, 0),
          c: round(c.perSecond, 0),
          d: round(d.perSecond, 0),
        },
      },
      {
        name: `mcp: ${CONCURRENT_CLIENTS} concurrent HTTP clients`,
        unit: "calls/s",
        figures: { a: round(ca, 0), b: round(cb, 0) },
        ratios: { "b/a": round(cb / ca, 2) },
        notes: `${CONCURRENT_CALLS} calls in all; target b/a ≥ 1.0`,
      },
    ];
  } finally {
    await Promise.all(children.map(stopped));
    rmSync(dir, { recursive: true, force: true });
  }
}
