/**
 * Bundle deployment figures: activation of the default bundle (signed, RS256) from download to
 * the first decision on the new revision, through a real HTTP bundle server on 127.0.0.1, against
 * activation alone from bytes in memory; and uncached decision latency while bundles are being
 * swapped against the steady state, measured side by side in one run.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PolicyInput } from "../contracts/index.js";
import { BundleActivator } from "../policies/bundle/activator.js";
import { readBundleArchive, writeBundleArchive } from "../policies/bundle/archive.js";
import { HttpBundleSource } from "../policies/bundle/http-source.js";
import { createSignaturesFile, SIGNATURES_FILE } from "../policies/bundle/signing.js";
import { defaultBundlePath } from "../policies/bundle.js";
import { realisticInput } from "./policy.bench.js";
import type { BenchResult } from "./types.js";

const ROUNDS = 12;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

export async function run(): Promise<BenchResult[]> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const key = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const keys = new Map([
    [
      "bench",
      {
        id: "bench",
        algorithm: "RS256" as const,
        key: publicKey.export({ type: "spki", format: "pem" }).toString(),
      },
    ],
  ]);
  const base = readBundleArchive(readFileSync(defaultBundlePath()));
  const manifest = JSON.parse(Buffer.from(base.get(".manifest") as Uint8Array).toString());
  const variant = (revision: string): Buffer => {
    const files = new Map(base);
    files.delete(SIGNATURES_FILE);
    files.set(".manifest", Buffer.from(JSON.stringify({ ...manifest, revision })));
    files.set(SIGNATURES_FILE, Buffer.from(createSignaturesFile(files, { key, keyId: "bench" })));
    return writeBundleArchive(files);
  };
  const bundles = Array.from({ length: ROUNDS }, (_, i) => variant(`bench-${i}`));

  let current = { bytes: bundles[0] as Buffer, etag: '"0"' };
  const server = createServer((req, res) => {
    if (req.headers["if-none-match"] === current.etag) return void res.writeHead(304).end();
    res.writeHead(200, { etag: current.etag, "content-type": "application/gzip" }).end(current.bytes);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const dataDir = mkdtempSync(join(tmpdir(), "portcullis-bundle-bench-"));
  const activator = await BundleActivator.open({ dataDir, keys, service: { cacheSize: 0 } });
  try {
    const source = new HttpBundleSource({
      activator,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/b.tar.gz`,
      minDelaySeconds: 60,
      maxDelaySeconds: 60,
    });
    const input = realisticInput as PolicyInput;
    const endToEnd: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      current = { bytes: bundles[i] as Buffer, etag: `"${i}"` };
      const t0 = performance.now();
      await source.pollOnce();
      const d = await activator.service.decide(input);
      if (d.revision !== `bench-${i}`) throw new Error(`activation ${i} did not take: ${d.revision}`);
      endToEnd.push(performance.now() - t0);
    }
    const inMemory: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      await activator.activate(bundles[(i + 1) % ROUNDS] as Buffer, { kind: "push" });
      inMemory.push(performance.now() - t0);
    }
    endToEnd.sort((a, b) => a - b);
    inMemory.sort((a, b) => a - b);

    let swapCount = 0;
    const measure = async (ms: number, swapping: boolean): Promise<number[]> => {
      const samples: number[] = [];
      let stop = false;
      const swaps = (async () => {
        while (swapping && !stop)
          await activator.activate(bundles[swapCount++ % ROUNDS] as Buffer, { kind: "push" });
      })();
      const end = performance.now() + ms;
      while (performance.now() < end) {
        const t0 = performance.now();
        await activator.service.decide(input);
        samples.push((performance.now() - t0) * 1000);
        if (samples.length % 8 === 0) await new Promise((r) => setImmediate(r));
      }
      stop = true;
      await swaps;
      return samples.sort((a, b) => a - b);
    };
    await measure(300, false);
    const steady = await measure(1500, false);
    const during = await measure(1500, true);
    const engines = activator.engines().join("+");
    return [
      {
        name: "bundle: activation of the default bundle (signed)",
        unit: "ms",
        figures: {
          download_to_decision_p50: percentile(endToEnd, 0.5),
          download_to_decision_max: endToEnd.at(-1) ?? Number.NaN,
          activate_in_memory_p50: percentile(inMemory, 0.5),
        },
        notes: `${ROUNDS} rounds, engines ${engines}, ${bundles[0]?.length} bytes, HTTP on 127.0.0.1`,
      },
      {
        name: "bundle: uncached decision during swaps vs steady",
        unit: "µs",
        figures: {
          steady_p50: percentile(steady, 0.5),
          steady_p99: percentile(steady, 0.99),
          swapping_p50: percentile(during, 0.5),
          swapping_p99: percentile(during, 0.99),
        },
        ratios: {
          "p50 swapping/steady": percentile(during, 0.5) / percentile(steady, 0.5),
          "p99 swapping/steady": percentile(during, 0.99) / percentile(steady, 0.99),
        },
        notes: `${steady.length} steady and ${during.length} samples during ${swapCount} back-to-back swaps`,
      },
    ];
  } finally {
    await activator.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
