/**
 * Starts a throwaway `redis-server` on a loopback port for the tests and the benchmark: no
 * persistence (`--save ''`, `--appendonly no`), bound to 127.0.0.1, started and stopped by the
 * caller. Redis cannot pick a free port itself, so one is taken from the kernel (listen on port
 * 0, close) and handed to it. A missing `redis-server` is an error that says how to install it —
 * tests that need Redis never skip silently.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer, Socket } from "node:net";

export interface RedisServer {
  port: number;
  url: string;
  /** Kills the server (SIGKILL, as a crash would) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

const INSTALL_HINT =
  "redis-server is not installed: install the Debian package (apt-get install -y redis-server); .ci/run does this in CI";

/** The path of redis-server, or an error saying how to install it. */
export function redisServerBinary(): string {
  for (const candidate of ["redis-server", "/usr/bin/redis-server", "/usr/sbin/redis-server"]) {
    const r = spawnSync(candidate, ["--version"], { encoding: "utf8", timeout: 5000 });
    if (r.status === 0) return candidate;
  }
  throw new Error(INSTALL_HINT);
}

/** A port the kernel just handed out on 127.0.0.1 (free at the time of asking). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => done(port));
    });
  });
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = new Socket();
    let buf = "";
    const finish = (ok: boolean) => {
      s.destroy();
      done(ok);
    };
    s.setTimeout(500, () => finish(false));
    s.once("error", () => finish(false));
    s.connect(port, "127.0.0.1", () => s.write("PING\r\n"));
    s.on("data", (d) => {
      buf += d.toString();
      if (buf.includes("\r\n")) finish(buf.startsWith("+PONG"));
    });
  });
}

/** Starts redis-server on a free loopback port; waits (at most `startMs`) until it answers PING. */
export async function startRedisServer(opts: { startMs?: number } = {}): Promise<RedisServer> {
  const bin = redisServerBinary();
  const port = await freePort();
  const startMs = opts.startMs ?? 10_000;
  let child: ChildProcess | undefined;
  let stderr = "";
  const launch = async () => {
    stderr = "";
    const c = spawn(
      bin,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    c.stderr?.on("data", (d) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child = c;
    const deadline = Date.now() + startMs;
    while (Date.now() < deadline) {
      if (c.exitCode !== null) break;
      if (await answersPing(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    c.kill("SIGKILL");
    throw new Error(`redis-server on port ${port} did not start within ${startMs} ms ${stderr}`);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((done) => c.once("exit", () => done()));
    c.kill("SIGKILL");
    await exited;
  };
  await launch();
  return { port, url: `redis://127.0.0.1:${port}`, stop, restart: launch };
}
