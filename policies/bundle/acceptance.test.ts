/**
 * Issue #7's acceptance, end to end with real parts: a bundle built and signed with the CLI is
 * served over HTTP on 127.0.0.1 — by Debian's nginx serving a folder (skipped when nginx is not
 * installed) and by a small static server with content ETags — and picked up by a running policy
 * plane started from configuration within the configured delay; a tampered one is refused and
 * visible in the status. The CLI's signatures are also checked by the pinned `opa`, run as a
 * bundle client of the same server.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { validateConfig } from "../../gateway/config/load.js";
import { opaInstalled, opaPath } from "../../scripts/toolchain.mjs";
import { readBundleArchive, writeBundleArchive } from "./archive.js";
import { bundleCommand } from "./cli.js";
import { aliceReads } from "./fixtures/bundles.js";
import { createPolicyAdminRoutes } from "./http.js";
import { type PolicyPlane, startPolicyPlane } from "./plane.js";

const scratch = mkdtempSync(join(tmpdir(), "portcullis-acceptance-"));
const www = join(scratch, "www");
mkdirSync(www);
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(scratch, { recursive: true, force: true });
});

/** Serves files of `www` the way a static web server does: strong ETag of the content, 304. */
async function staticServer(): Promise<string> {
  const server: Server = createServer((req, res) => {
    let body: Buffer;
    try {
      body = readFileSync(join(www, String(req.url).replace(/[^A-Za-z0-9_.-]/g, "")));
    } catch {
      return void res.writeHead(404).end();
    }
    const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`;
    if (req.headers["if-none-match"] === etag) return void res.writeHead(304, { etag }).end();
    res.writeHead(200, { etag, "content-type": "application/gzip", "content-length": body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

async function cli(...argv: string[]): Promise<number> {
  const quiet = vi.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    return await bundleCommand.run(argv);
  } finally {
    quiet.mockRestore();
  }
}

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const priv = join(scratch, "release.key");
const pub = join(scratch, "release.pub");
writeFileSync(priv, privateKey.export({ type: "pkcs8", format: "pem" }));
writeFileSync(pub, publicKey.export({ type: "spki", format: "pem" }));

async function buildSigned(revision: string, denyDocs: boolean, out: string): Promise<void> {
  const src = join(scratch, `src-${revision}`);
  cpSync(join(import.meta.dirname, "../../rego"), src, { recursive: true });
  rmSync(join(src, "build"), { recursive: true, force: true });
  if (denyDocs) {
    const path = join(src, "portcullis/settings/data.json");
    const data = JSON.parse(readFileSync(path, "utf8"));
    data.rules.push({ id: "no-docs", effect: "deny", names: ["docs__*"] });
    writeFileSync(path, JSON.stringify(data));
  }
  expect(await cli("build", src, "-o", out, "--revision", revision)).toBe(0);
  expect(await cli("sign", out, "--key", priv, "--kid", "release", "--scope", "prod")).toBe(0);
}

describe.skipIf(!opaInstalled())("bundle deployment acceptance", () => {
  let plane: PolicyPlane;
  let base: string;

  it("picks up a CLI-built, signed bundle within the configured delay and refuses a tampered one", async () => {
    base = await staticServer();
    await buildSigned("acc-1", false, join(www, "bundle.tar.gz"));
    const config = validateConfig({
      dataDir: join(scratch, "state"),
      policy: {
        engine: "ts",
        source: {
          service: { url: `${base}/bundle.tar.gz`, minDelaySeconds: 0.1, maxDelaySeconds: 0.3 },
          keys: { release: { key: `file:${pub}`, algorithm: "RS256" } },
          scope: "prod",
        },
        decisionLogs: { file: join(scratch, "decisions.jsonl") },
      },
    });
    plane = await startPolicyPlane(config, scratch);
    cleanups.push(() => plane.close());
    await until(() => plane.service.revision === "acc-1", 5000);
    expect((await plane.service.decide(aliceReads)).decision).toBe("allow");

    await buildSigned("acc-2", true, join(www, "next.tar.gz"));
    const t0 = Date.now();
    cpSync(join(www, "next.tar.gz"), join(www, "bundle.tar.gz"));
    await until(() => plane.service.revision === "acc-2", 3000);
    expect(Date.now() - t0).toBeLessThan(1500); // max delay 0.3 s plus activation
    expect((await plane.service.decide(aliceReads)).decision).toBe("deny");

    const files = readBundleArchive(readFileSync(join(www, "bundle.tar.gz")));
    const data = JSON.parse(Buffer.from(files.get("data.json") as Uint8Array).toString());
    data.portcullis.settings.rules = [{ id: "everyone", effect: "allow" }];
    files.set("data.json", Buffer.from(JSON.stringify(data)));
    writeFileSync(join(www, "bundle.tar.gz"), writeBundleArchive(files));

    const app = createPolicyAdminRoutes({ activator: plane.activator, authorize: () => true });
    const statusOf = async () =>
      (
        (await (await app.request("/v1/policy/status")).json()) as {
          bundles: Record<string, Record<string, unknown>>;
        }
      ).bundles.portcullis;
    await until(async () => (await statusOf())?.code === "bundle_error", 3000);
    expect(await statusOf()).toMatchObject({
      active_revision: "acc-2",
      errors: [{ code: "hash_mismatch", message: expect.stringMatching(/data\.json/) }],
    });
    expect((await plane.service.decide(aliceReads)).decision).toBe("deny");
    expect(readFileSync(join(scratch, "decisions.jsonl"), "utf8")).toMatch(/"revision":"acc-2"/);
  });

  it("the pinned opa downloads, verifies and activates a bundle signed by our CLI, and refuses it tampered", async () => {
    // This opa is built without a wasm engine, so the bundle it activates is plain Rego: what is
    // under test is that OPA accepts our signature, scope and file hashes.
    const src = join(scratch, "opa-src");
    mkdirSync(src);
    writeFileSync(join(src, "p.rego"), "package p\n\nallow if input.user == data.p.admin\n");
    writeFileSync(join(src, "data.json"), '{"p":{"admin":"alice","limits":{"z":1.50,"a":"<&>"}}}');
    const signedPath = join(www, "opa.tar.gz");
    const built = spawnSync(opaPath(), ["build", "-b", ".", "-r", "opa-rev-1", "-o", signedPath], {
      cwd: src,
      timeout: 60_000,
    });
    expect(built.status, String(built.stderr)).toBe(0);
    expect(await cli("sign", signedPath, "--key", priv, "--kid", "release", "--scope", "prod")).toBe(0);
    const port = await freePort();
    const conf = join(scratch, "opa.yaml");
    writeFileSync(
      conf,
      [
        "services:",
        `  local: { url: "${base}" }`,
        "bundles:",
        "  portcullis:",
        "    service: local",
        "    resource: opa.tar.gz",
        "    polling: { min_delay_seconds: 1, max_delay_seconds: 1 }",
        "    signing: { keyid: release, scope: prod }",
        "keys:",
        "  release:",
        "    algorithm: RS256",
        `    key: ${JSON.stringify(readFileSync(pub, "utf8"))}`,
      ].join("\n"),
    );
    const opa: ChildProcess = spawn(
      opaPath(),
      ["run", "--server", "--addr", `127.0.0.1:${port}`, "--config-file", conf],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const killer = setTimeout(() => opa.kill("SIGKILL"), 30_000);
    cleanups.push(() => {
      clearTimeout(killer);
      opa.kill("SIGKILL");
    });
    let log = "";
    opa.stdout?.on("data", (d: Buffer) => (log += d.toString()));
    opa.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    const decide = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/data/p/allow`, {
        method: "POST",
        body: JSON.stringify({ input: { user: "alice" } }),
      }).catch(() => undefined);
      return res?.ok ? ((await res.json()) as { result?: unknown }).result : undefined;
    };
    await until(async () => (await decide()) === true || opa.exitCode !== null, 20_000).catch(() => {
      throw new Error(`opa did not activate the bundle:\n${log}`);
    });

    const files = readBundleArchive(readFileSync(signedPath));
    files.set("data.json", Buffer.from('{"p":{"admin":"mallory"}}'));
    writeFileSync(signedPath, writeBundleArchive(files));
    await until(
      () => /Bundle (activation|load) failed.*(digest|hash|mismatch|verif)/i.test(log),
      10_000,
    ).catch(() => {
      throw new Error(`opa did not refuse the tampered bundle:\n${log}`);
    });
    expect(await decide()).toBe(true);
  });
});

const nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));

describe.skipIf((!opaInstalled() || !nginx) && !process.env.CI)(
  "bundle deployment acceptance with Debian nginx",
  () => {
    it("a running gateway follows CLI-signed bundles served by nginx, refusing a tampered one", async () => {
      const prefix = join(scratch, "nginx");
      const root = join(prefix, "www");
      mkdirSync(join(prefix, "tmp"), { recursive: true });
      mkdirSync(root);
      chmodSync(scratch, 0o755);
      for (const d of [prefix, root]) chmodSync(d, 0o755);
      const port = await freePort();
      const tmp = join(prefix, "tmp");
      writeFileSync(
        join(prefix, "nginx.conf"),
        [
          "worker_processes 1;",
          `error_log ${join(prefix, "error.log")};`,
          `pid ${join(prefix, "nginx.pid")};`,
          "events { worker_connections 64; }",
          "http {",
          `  access_log ${join(prefix, "access.log")};`,
          ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${tmp};`),
          "  types { application/gzip gz; }",
          `  server { listen 127.0.0.1:${port}; root ${root}; etag on; }`,
          "}",
        ].join("\n"),
      );
      const server = spawn(
        nginx as string,
        ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-g", "daemon off;"],
        {
          stdio: "ignore",
        },
      );
      const killer = setTimeout(() => server.kill("SIGKILL"), 60_000);
      cleanups.push(async () => {
        clearTimeout(killer);
        if (server.exitCode === null) {
          const exited = new Promise((r) => server.once("exit", r));
          server.kill("SIGTERM");
          await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
          server.kill("SIGKILL");
        }
      });
      // nginx's ETag is mtime + size: give every published file its own mtime.
      let mtime = 1_000_000;
      const publish = (from: string) => {
        const to = join(root, "bundle.tar.gz");
        cpSync(from, to);
        chmodSync(to, 0o644);
        mtime += 1000;
        utimesSync(to, mtime, mtime);
      };
      const v1 = join(scratch, "ngx-1.tar.gz");
      const v2 = join(scratch, "ngx-2.tar.gz");
      await buildSigned("ngx-1", false, v1);
      await buildSigned("ngx-2", true, v2);
      publish(v1);
      await until(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/bundle.tar.gz`).catch(() => undefined))?.ok === true,
        10_000,
      );

      const config = validateConfig({
        dataDir: join(scratch, "nginx-state"),
        policy: {
          engine: "ts",
          source: {
            service: {
              url: `http://127.0.0.1:${port}/bundle.tar.gz`,
              minDelaySeconds: 0.1,
              maxDelaySeconds: 0.3,
            },
            keys: { release: { key: `file:${pub}`, algorithm: "RS256" } },
            scope: "prod",
          },
        },
      });
      const plane = await startPolicyPlane(config, scratch);
      cleanups.push(() => plane.close());
      await until(() => plane.service.revision === "ngx-1", 5000);
      expect((await plane.service.decide(aliceReads)).decision).toBe("allow");
      // Unchanged bundle: the next polls send If-None-Match and nginx answers 304.
      const notModified = /"GET \/bundle\.tar\.gz HTTP\/1\.1" 304 /;
      await until(() => notModified.test(readFileSync(join(prefix, "access.log"), "utf8")), 3000);
      const t0 = Date.now();
      publish(v2);
      await until(() => plane.service.revision === "ngx-2", 3000);
      expect(Date.now() - t0).toBeLessThan(1500);
      expect((await plane.service.decide(aliceReads)).decision).toBe("deny");

      const files = readBundleArchive(readFileSync(v1));
      files.set(
        "data.json",
        Buffer.from('{"portcullis":{"settings":{"rules":[{"id":"all","effect":"allow"}]}}}'),
      );
      const tampered = join(scratch, "ngx-3.tar.gz");
      writeFileSync(tampered, writeBundleArchive(files));
      publish(tampered);
      await until(() => plane.activator.status().code === "bundle_error", 3000);
      expect(plane.activator.status()).toMatchObject({
        active_revision: "ngx-2",
        errors: [{ code: "hash_mismatch" }],
      });
      expect((await plane.service.decide(aliceReads)).decision).toBe("deny");
    });
  },
);
