/**
 * Issue #7's acceptance, end to end with real parts: a bundle built and signed with the CLI is
 * served by a static file server on 127.0.0.1 (content ETags and 304s, as nginx serves a folder),
 * picked up by a running policy plane started from configuration within the configured delay; a
 * tampered one is refused and visible in the status route. The CLI's signatures are also checked
 * by the pinned `opa`, run as a bundle client of the same server.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
