import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleActivator } from "./activator.js";
import { keys, makeBundle } from "./fixtures/bundles.js";
import { StatusReporter } from "./status-upload.js";

const scratch = mkdtempSync(join(tmpdir(), "portcullis-status-"));
const received: Array<{
  auth?: string;
  body: { labels: Record<string, string>; bundles: Record<string, Record<string, unknown>> };
}> = [];
let failNext = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    if (failNext > 0) {
      failNext--;
      return void res.writeHead(500).end();
    }
    received.push({
      ...(req.headers.authorization ? { auth: req.headers.authorization } : {}),
      body: JSON.parse(Buffer.concat(chunks).toString()),
    });
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`;
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(scratch, { recursive: true, force: true });
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("StatusReporter", () => {
  it("uploads OPA-shaped status at start and after every activation or refusal", async () => {
    const activator = await BundleActivator.open({ dataDir: scratch, keys });
    const reporter = new StatusReporter({
      activator,
      url,
      labels: { site: "test" },
      bearerToken: () => "status-token",
      minDelaySeconds: 60,
      maxDelaySeconds: 60,
      debounceMs: 10,
    });
    reporter.start();
    try {
      await until(() => received.length === 1);
      expect(received[0]).toMatchObject({
        auth: "Bearer status-token",
        body: { labels: { site: "test", app: "portcullis" } },
      });
      await activator.activate(makeBundle({ revision: "st-1", sign: true }), { kind: "push" });
      await until(() => received.at(-1)?.body.bundles.portcullis?.active_revision === "st-1");
      await activator.activate(makeBundle({ revision: "st-2" }), { kind: "push" }).catch(() => undefined);
      await until(() => received.at(-1)?.body.bundles.portcullis?.code === "bundle_error");
      expect(received.at(-1)?.body.bundles.portcullis).toMatchObject({
        active_revision: "st-1",
        errors: [{ code: "unsigned" }],
      });
      failNext = 1;
      expect(await reporter.uploadOnce()).toBe(false);
      expect(reporter.failures).toBe(1);
      expect(reporter.lastError).toMatch(/HTTP 500/);
      expect(JSON.stringify(received)).not.toContain("BEGIN PUBLIC KEY");
    } finally {
      await reporter.stop();
      await activator.close();
    }
  });
});
