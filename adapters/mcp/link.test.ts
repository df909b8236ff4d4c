/**
 * The upstream link in both eras against the 2026 conformance fixture over stdio: logging/setLevel
 * forwarded to a 2025-era upstream, the level carried per request to a 2026-era one, and a 2026
 * upstream's input-required rounds answered through the call's client channel.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { UpstreamServerConfig } from "../../gateway/config/schema.js";
import type { ClientChannel } from "../../gateway/registry/source.js";
import { UpstreamPool } from "./pool.js";

const fixture = join(import.meta.dirname, "../../conformance/mcp/fixture-modern.mjs");
const everything = createRequire(import.meta.url).resolve(
  "@modelcontextprotocol/server-everything/dist/index.js",
);

/** A channel that records the notifications it gets (no filtering of its own). */
function recorder(extra: Partial<ClientChannel> = {}) {
  const seen: ServerNotification[] = [];
  const channel: ClientChannel = {
    era: "2025-11-25",
    capabilities: {},
    notify: async (n) => {
      seen.push(n);
    },
    ...extra,
  };
  return { channel, logs: () => seen.filter((n) => n.method === "notifications/message").length };
}

describe("upstream link eras", () => {
  let pool: UpstreamPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  const make = (protocol: "2025-11-25" | "2026-07-28" | "auto", timeoutMs = 60_000) =>
    new UpstreamPool(
      {
        fx: UpstreamServerConfig.parse({
          command: process.execPath,
          args: [fixture, "--stdio"],
          protocol,
          timeoutMs,
        }),
      },
      { baseDir: process.cwd() },
    );

  it("forwards logging/setLevel to a 2025-era upstream", async () => {
    pool = make("2025-11-25");
    const up = pool.get("fx")!;
    await up.listTools();
    await up.setLogLevel("error");
    const quiet = recorder();
    await up.callTool("test_logging_tool", {}, { client: quiet.channel });
    expect(quiet.logs()).toBe(0);
    await up.setLogLevel("debug");
    const loud = recorder();
    await up.callTool("test_logging_tool", {}, { client: loud.channel });
    expect(loud.logs()).toBe(2);
  });

  it("sends a 2026-era upstream the client's log level with each request", async () => {
    pool = make("2026-07-28");
    const up = pool.get("fx")!;
    const none = recorder({ era: "2026-07-28" });
    await up.callTool("test_logging_tool", {}, { client: none.channel });
    expect(none.logs()).toBe(0);
    const info = recorder({ era: "2026-07-28", logLevel: "info" });
    await up.callTool("test_logging_tool", {}, { client: info.channel });
    expect(info.logs()).toBe(2);
  });

  it("answers a 2026 upstream's rounds through the channel and retries with its requestState", async () => {
    pool = make("2026-07-28");
    const up = pool.get("fx")!;
    const rounds: string[][] = [];
    const { channel } = recorder({
      era: "2026-07-28",
      capabilities: { elicitation: {} },
      requestInput: async (requests) => {
        rounds.push(Object.keys(requests));
        return { confirm: { action: "accept", content: { ok: true } } };
      },
    });
    const result = await up.callTool("test_input_required_result_request_state", {}, { client: channel });
    expect(rounds).toEqual([["confirm"]]);
    expect(JSON.stringify(result.content)).toContain("state-ok: confirmed=true");
  });

  it("does not count the time the person takes to answer against the upstream timeout", async () => {
    pool = make("2026-07-28", 400);
    const up = pool.get("fx")!;
    await up.listTools();
    const { channel } = recorder({
      era: "2026-07-28",
      capabilities: { elicitation: {} },
      requestInput: async () => {
        await new Promise((r) => setTimeout(r, 900));
        return { user_name: { action: "accept", content: { name: "Slow" } } };
      },
    });
    const result = await up.callTool("test_input_required_result_elicitation", {}, { client: channel });
    expect(JSON.stringify(result.content)).toContain("Hello, Slow!");
  });

  it("fails the call with a clear error when the client cannot give the input", async () => {
    pool = make("2026-07-28");
    const up = pool.get("fx")!;
    const { channel } = recorder({ capabilities: { elicitation: {} } });
    await expect(
      up.callTool("test_input_required_result_elicitation", {}, { client: channel }),
    ).rejects.toThrow(/cannot give: elicitation/);
  });

  it("links a 2026 upstream over Streamable HTTP, rounds included", async () => {
    const child: ChildProcess = spawn(process.execPath, [fixture, "--port", "0"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("fixture did not start")), 10_000);
        let out = "";
        child.stdout!.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /LISTENING (\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      pool = new UpstreamPool(
        {
          fx: UpstreamServerConfig.parse({ url: `http://localhost:${port}/mcp`, protocol: "2026-07-28" }),
        },
        { baseDir: process.cwd() },
      );
      const up = pool.get("fx")!;
      expect((await up.listTools()).map((t) => t.name)).toContain("test_input_required_result_elicitation");
      const { channel } = recorder({
        era: "2026-07-28",
        capabilities: { elicitation: {} },
        requestInput: async () => ({ user_name: { action: "accept", content: { name: "Http" } } }),
      });
      const result = await up.callTool("test_input_required_result_elicitation", {}, { client: channel });
      expect(JSON.stringify(result.content)).toContain("Hello, Http!");
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("negotiates with protocol auto: 2026 where the upstream has it, else 2025", async () => {
    pool = make("auto");
    const modern = pool.get("fx")!;
    const { channel } = recorder({
      era: "2026-07-28",
      capabilities: { elicitation: {} },
      requestInput: async () => ({ user_name: { action: "accept", content: { name: "Auto" } } }),
    });
    const result = await modern.callTool("test_input_required_result_elicitation", {}, { client: channel });
    expect(JSON.stringify(result.content)).toContain("Hello, Auto!");
    expect(modern.health().era).toBe("2026-07-28");
    await pool.close();
    pool = new UpstreamPool(
      {
        ev: UpstreamServerConfig.parse({
          command: process.execPath,
          args: [everything, "stdio"],
          protocol: "auto",
        }),
      },
      { baseDir: process.cwd() },
    );
    const legacy = pool.get("ev")!;
    const echo = await legacy.callTool("echo", { message: "auto" }, {});
    expect(echo.content).toEqual([{ type: "text", text: "Echo: auto" }]);
    expect(legacy.health().era).toBe("2025-11-25");
    // On the negotiated 2025 era the upstream's mid-call elicitation reaches the call's client.
    const asked = recorder({
      capabilities: { elicitation: {} },
      elicit: async () => ({ action: "accept", content: { name: "Grace Hopper", check: true } }),
    });
    const elicited = await legacy.callTool("trigger-elicitation-request", {}, { client: asked.channel });
    expect(JSON.stringify(elicited.content)).toContain("Grace Hopper");
  });

  it("does not time out a 2025 upstream's call while the person answers its elicitation", async () => {
    pool = new UpstreamPool(
      {
        ev: UpstreamServerConfig.parse({
          command: process.execPath,
          args: [everything, "stdio"],
          timeoutMs: 400,
        }),
      },
      { baseDir: process.cwd() },
    );
    const up = pool.get("ev")!;
    await up.listTools();
    const slow = recorder({
      capabilities: { elicitation: {} },
      elicit: async () => {
        await new Promise((r) => setTimeout(r, 900));
        return { action: "accept", content: { name: "Patient", check: true } };
      },
    });
    const result = await up.callTool("trigger-elicitation-request", {}, { client: slow.channel });
    expect(JSON.stringify(result.content)).toContain("Patient");
  });
});
