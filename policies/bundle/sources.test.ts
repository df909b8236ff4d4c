import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resolveSecret } from "../../gateway/config/secrets.js";
import { BundleActivator } from "./activator.js";
import { DEFAULT_ARCHIVE_LIMITS, readBundleArchive } from "./archive.js";
import { FileBundleSource } from "./file-source.js";
import { aliceReads, keys, makeBundle, rawTar } from "./fixtures/bundles.js";
import { HttpBundleSource, LONG_POLL_CONTENT_TYPE } from "./http-source.js";

/** A small OPA-style bundle server: ETags, 304s, bearer auth, optional long polling. */
class BundleServer {
  server: Server;
  url = "";
  current: { bytes: Buffer; etag: string } | undefined;
  longPoll = false;
  requests: Array<{ ifNoneMatch?: string; prefer?: string }> = [];
  #waiters: Array<() => void> = [];
  #n = 0;

  constructor() {
    this.server = createServer((req, res) => this.#handle(req, res));
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/bundles/main.tar.gz`;
  }

  publish(bytes: Buffer): void {
    this.current = { bytes, etag: `"b${++this.#n}"` };
    for (const w of this.#waiters.splice(0)) w();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const inm = req.headers["if-none-match"];
    this.requests.push({
      ...(typeof inm === "string" ? { ifNoneMatch: inm } : {}),
      ...(req.headers.prefer ? { prefer: String(req.headers.prefer) } : {}),
    });
    if (req.headers.authorization !== "Bearer s3cret") return void res.writeHead(401).end();
    const type = this.longPoll ? LONG_POLL_CONTENT_TYPE : "application/gzip";
    const send = () => {
      if (!this.current) return void res.writeHead(404).end();
      if (req.headers["if-none-match"] === this.current.etag)
        return void res.writeHead(304, { etag: this.current.etag, "content-type": type }).end();
      res.writeHead(200, { etag: this.current.etag, "content-type": type }).end(this.current.bytes);
    };
    const wait = /wait=(\d+)/.exec(String(req.headers.prefer ?? ""));
    if (this.longPoll && wait && this.current && inm === this.current.etag) {
      const timer = setTimeout(send, Number(wait[1]) * 1000);
      this.#waiters.push(() => {
        clearTimeout(timer);
        send();
      });
      return;
    }
    send();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

const scratch = mkdtempSync(join(tmpdir(), "portcullis-sources-"));
const server = new BundleServer();
const running: Array<{ stop(): Promise<void> } | BundleActivator> = [];
beforeAll(() => server.listen());
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await ("stop" in r ? r.stop() : r.close());
});

process.env.PORTCULLIS_TEST_BUNDLE_TOKEN = "s3cret";
const token = () => resolveSecret("env:PORTCULLIS_TEST_BUNDLE_TOKEN");

async function activator(dataDir: string): Promise<BundleActivator> {
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxUncompressedBytes: 16 * 1024 * 1024 };
  const a = await BundleActivator.open({ dataDir, keys, limits });
  running.push(a);
  return a;
}

function source(a: BundleActivator, extra: Partial<ConstructorParameters<typeof HttpBundleSource>[0]> = {}) {
  const s = new HttpBundleSource({
    activator: a,
    url: server.url,
    minDelaySeconds: 0.05,
    maxDelaySeconds: 0.1,
    bearerToken: token,
    ...extra,
  });
  running.push(s);
  return s;
}

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("HTTP bundle source against a local bundle server", () => {
  const dataDir = join(scratch, "http");

  it("follows good v1 → good v2, refuses tampered, unsigned and hostile bundles, keeps v2", async () => {
    const a = await activator(dataDir);
    const s = source(a);
    server.publish(makeBundle({ revision: "v1", sign: true }));
    expect(await s.pollOnce()).toMatchObject({ kind: "activated", revision: "v1" });
    expect((await a.service.decide(aliceReads)).decision).toBe("allow");
    expect(await s.pollOnce()).toMatchObject({ kind: "not_modified" });
    expect(server.requests.at(-1)).toMatchObject({ ifNoneMatch: '"b1"', prefer: "modes=snapshot" });

    server.publish(makeBundle({ revision: "v2", sign: true, denyDocs: true }));
    expect(await s.pollOnce()).toMatchObject({ kind: "activated", revision: "v2" });
    expect(await a.service.decide(aliceReads)).toMatchObject({ decision: "deny", revision: "v2" });

    const hostile: Array<[string, Buffer, string]> = [
      [
        "tampered v3",
        makeBundle({ revision: "v3", sign: true, tamper: (f) => f.set("data.json", Buffer.from("{}")) }),
        "hash_mismatch",
      ],
      ["unsigned v4", makeBundle({ revision: "v4" }), "unsigned"],
      ["traversal", gzipSync(rawTar([{ name: "../../etc/cron.d/x", body: "x" }])), "path_traversal"],
      ["symlink", gzipSync(rawTar([{ name: "policy.wasm", type: "2" }])), "link_entry"],
      [
        "tar bomb",
        gzipSync(rawTar([{ name: "data.json", body: Buffer.alloc(32 * 1024 * 1024) }])),
        "uncompressed_too_large",
      ],
    ];
    for (const [label, bytes, reason] of hostile) {
      server.publish(bytes);
      expect(await s.pollOnce(), label).toMatchObject({ kind: "failed" });
      expect(a.status().errors, label).toEqual([expect.objectContaining({ code: reason })]);
      expect((await a.service.decide(aliceReads)).revision, label).toBe("v2");
    }
    server.publish(Buffer.alloc(40 * 1024));
    const small = source(a, { maxBytes: 32 * 1024 });
    expect(await small.pollOnce()).toMatchObject({ kind: "failed", code: "compressed_too_large" });
    expect(a.status()).toMatchObject({ active_revision: "v2", code: "bundle_error" });
    expect(a.status().last_successful_download).toBeDefined();
  });

  it("restarts on the persisted bundle while the server is down, and reports the outage", async () => {
    const a = await activator(dataDir);
    expect(a.service.revision).toBe("v2");
    const s = source(a, { url: "http://127.0.0.1:9/bundles/main.tar.gz" });
    expect(await s.pollOnce()).toMatchObject({ kind: "failed", code: "download_failed" });
    expect(a.status()).toMatchObject({ active_revision: "v2", errors: [{ code: "download_failed" }] });
    expect((await a.service.decide(aliceReads)).decision).toBe("deny");
  });

  it("refuses without credentials", async () => {
    const a = await activator(join(scratch, "creds"));
    const s = source(a, { bearerToken: () => resolveSecret("env:PORTCULLIS_TEST_UNSET_TOKEN") });
    expect(await s.pollOnce()).toMatchObject({ kind: "failed", code: "credentials_unavailable" });
    const wrong = source(a, { bearerToken: () => "wrong" });
    expect(await wrong.pollOnce()).toMatchObject({
      kind: "failed",
      message: expect.stringMatching(/HTTP 401/),
    });
  });

  it("polls on its own and picks a new bundle up within the configured delay", async () => {
    const a = await activator(join(scratch, "loop"));
    server.publish(makeBundle({ revision: "loop-1", sign: true }));
    const s = source(a);
    s.start();
    await until(() => a.service.revision === "loop-1");
    const t0 = Date.now();
    server.publish(makeBundle({ revision: "loop-2", sign: true, denyDocs: true }));
    await until(() => a.service.revision === "loop-2");
    expect(Date.now() - t0).toBeLessThan(2000);
    for (let i = 0; i < 20; i++) expect(s.nextDelayMs()).toBeGreaterThanOrEqual(50);
  });

  it("long-polls when the server opts in: a new bundle arrives long before the regular delay", async () => {
    server.longPoll = true;
    try {
      const a = await activator(join(scratch, "long"));
      server.publish(makeBundle({ revision: "lp-1", sign: true }));
      const s = source(a, { minDelaySeconds: 60, maxDelaySeconds: 60, longPollingTimeoutSeconds: 5 });
      s.start();
      await until(() => a.service.revision === "lp-1");
      await until(() => server.requests.at(-1)?.ifNoneMatch === server.current?.etag);
      expect(server.requests.at(-1)?.prefer).toBe("modes=snapshot, wait=5");
      const t0 = Date.now();
      server.publish(makeBundle({ revision: "lp-2", sign: true }));
      await until(() => a.service.revision === "lp-2", 3000);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      server.longPoll = false;
    }
  });
});

describe("hot swap under load", () => {
  it("loses no call and never answers from a half-loaded bundle", async () => {
    const a = await activator(join(scratch, "load"));
    const v1 = makeBundle({ revision: "h1", sign: true });
    const v2 = makeBundle({ revision: "h2", sign: true, denyDocs: true });
    await a.activate(v1, { kind: "push" });
    let stop = false;
    const seen = { h1: 0, h2: 0, calls: 0 };
    const worker = async () => {
      while (!stop) {
        const d = await a.service.decide(aliceReads);
        seen.calls++;
        // Each decision must be exactly what its stamped revision decides.
        if (d.revision === "h1") expect(d.decision).toBe("allow");
        else if (d.revision === "h2") expect(d.decision).toBe("deny");
        else throw new Error(`unexpected revision ${d.revision}`);
        seen[d.revision]++;
        await new Promise((r) => setImmediate(r));
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    for (let i = 0; i < 6; i++) await a.activate(i % 2 === 0 ? v2 : v1, { kind: "push" });
    stop = true;
    await Promise.all(workers);
    expect(seen.h1).toBeGreaterThan(0);
    expect(seen.h2).toBeGreaterThan(0);
    expect(seen.h1 + seen.h2).toBe(seen.calls);
  });
});

describe("file and folder sources", () => {
  it("activates a watched file on change, and an unpacked bundle folder", async () => {
    const a = await activator(join(scratch, "file"));
    const path = join(scratch, "watched.tar.gz");
    writeFileSync(path, makeBundle({ revision: "f1", sign: true }));
    const s = new FileBundleSource({ activator: a, path, debounceMs: 50 });
    running.push(s);
    await s.start();
    expect(a.service.revision).toBe("f1");
    writeFileSync(path, makeBundle({ revision: "f2", sign: true }));
    await until(() => a.service.revision === "f2");
    expect(await s.load()).toBe("unchanged");

    const folder = join(scratch, "unpacked");
    for (const [name, bytes] of readBundleArchive(makeBundle({ revision: "dir-1", sign: true }))) {
      mkdirSync(join(folder, name, ".."), { recursive: true });
      writeFileSync(join(folder, name), bytes);
    }
    const d = new FileBundleSource({ activator: a, path: folder });
    expect(await d.load()).toMatchObject({ revision: "dir-1", source: "file" });
  });
});
