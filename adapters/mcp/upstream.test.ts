import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { UpstreamServerConfig } from "../../gateway/config/schema.js";
import { isPortcullisError } from "../../gateway/errors.js";
import { UpstreamPool } from "./pool.js";

const require = createRequire(import.meta.url);
const everything = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("UpstreamPool with server-everything over stdio", () => {
  let pool: UpstreamPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  const make = () =>
    new UpstreamPool(
      { everything: UpstreamServerConfig.parse({ command: process.execPath, args: [everything, "stdio"] }) },
      { baseDir: process.cwd(), backoffMs: 50 },
    );

  it("starts lazily, lists and calls tools, and reaps the child on close", async () => {
    pool = make();
    const up = pool.get("everything")!;
    expect(up.health().state).toBe("idle");
    const tools = await up.listTools();
    expect(tools.map((t) => t.name)).toContain("echo");
    expect(up.prefix).toBe("everything__");
    const result = await up.callTool("echo", { message: "hi" }, {});
    expect(result.content).toEqual([{ type: "text", text: "Echo: hi" }]);
    const pid = up.health().pid!;
    expect(alive(pid)).toBe(true);
    await pool.close();
    expect(alive(pid)).toBe(false);
    await expect(up.listTools()).rejects.toMatchObject({ code: "GW_ERR_UPSTREAM_UNAVAILABLE" });
  });

  it("fails an in-flight call promptly when the upstream dies, then restarts", async () => {
    pool = make();
    const up = pool.get("everything")!;
    await up.listTools();
    const pid = up.health().pid!;
    const started = Date.now();
    const call = up.callTool("trigger-long-running-operation", { duration: 20, steps: 2 }, {});
    setTimeout(() => process.kill(pid, "SIGKILL"), 200);
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPortcullisError(error) && error.code).toBe("GW_ERR_UPSTREAM_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(5_000);
    await until(() => (up.health().state === "ready" ? true : undefined));
    expect(up.health().restarts).toBe(1);
    expect(up.health().pid).not.toBe(pid);
    const again = await up.callTool("echo", { message: "back" }, {});
    expect(again.content).toEqual([{ type: "text", text: "Echo: back" }]);
  });

  it("reports a command that cannot start as unavailable", async () => {
    pool = new UpstreamPool(
      { broken: UpstreamServerConfig.parse({ command: "portcullis-no-such-command-xyz" }) },
      { baseDir: process.cwd(), backoffMs: 10_000 },
    );
    await expect(pool.get("broken")!.listTools()).rejects.toMatchObject({
      code: "GW_ERR_UPSTREAM_UNAVAILABLE",
    });
    expect(pool.health()[0]).toMatchObject({ name: "broken", state: "backoff" });
  });

  it("talks to a Streamable HTTP upstream with headers from env references", async () => {
    const { spawn } = await import("node:child_process");
    const fixture = new URL("../../conformance/mcp/fixture-server.mjs", import.meta.url).pathname;
    const child = spawn(process.execPath, [fixture, "--port", "0"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /LISTENING (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once("exit", () => reject(new Error("fixture exited")));
      });
      process.env.PORTCULLIS_UPSTREAM_TOKEN = "upstream-secret";
      pool = new UpstreamPool(
        {
          remote: UpstreamServerConfig.parse({
            url: `http://localhost:${port}/mcp`,
            headers: { "X-Upstream-Token": "env:PORTCULLIS_UPSTREAM_TOKEN" },
          }),
        },
        { baseDir: process.cwd() },
      );
      const up = pool.get("remote")!;
      expect((await up.listTools()).map((t) => t.name)).toContain("test_simple_text");
      const seen: number[] = [];
      const result = await up.callTool(
        "test_tool_with_progress",
        {},
        { onProgress: (p) => seen.push(p.progress) },
      );
      expect(result.content).toEqual([{ type: "text", text: "Tool with progress executed successfully" }]);
      expect(seen).toEqual([0, 50, 100]);
      const read = await up.readResource("test://static-text", {});
      expect(read.contents[0]).toMatchObject({ text: "This is the content of the static text resource." });
      await pool.close();
      pool = new UpstreamPool(
        {
          remote: UpstreamServerConfig.parse({
            url: `http://localhost:${port}/mcp`,
            headers: { "X-Upstream-Token": "env:PORTCULLIS_UNSET_TOKEN_VAR" },
          }),
        },
        { baseDir: process.cwd(), backoffMs: 10_000 },
      );
      const failed = await pool
        .get("remote")!
        .listTools()
        .catch((e: unknown) => e);
      expect(failed).toMatchObject({ code: "GW_ERR_UPSTREAM_UNAVAILABLE" });
      expect(String((failed as Error).message)).toContain("PORTCULLIS_UNSET_TOKEN_VAR");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
