/**
 * Model routing overhead: the same OpenAI Chat request sent straight to a fake provider (a real
 * HTTP server on 127.0.0.1) and through the gateway's `/v1/chat/completions` — policy and audit
 * on, redaction off and on (reversible placeholders; the prompt carries a secret and an email, the
 * answer echoes the placeholders, so redaction and restoring both work) — interleaved round by
 * round so the variants share the machine's noise. Figures: p50/p99 latency non-streamed and
 * streamed, time to first token with redaction on vs off (target ratio ≤ 1.1) and calls/s at 64
 * concurrent streams. Client, gateways and fake share this process (as in the acceptance tests);
 * everything started here is stopped before `run()` resolves.
 */
import { performance } from "node:perf_hooks";
import { type FakeProvider, startFakeProvider } from "../conformance/providers/fake-provider.js";
import { startTestGateway, type TestGateway } from "../server/models/test-gateway.js";
import type { BenchResult } from "./types.js";

const KEY = "bench-models-key-0123456789abcdef";
const SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD";
const PROMPT = `Summarise the deployment notes. The key is ${SECRET}, questions to ops@example.com. ${"Lorem ipsum dolor sit amet. ".repeat(20)}`;
const ROUNDS = 300;
const WARMUP = 40;
const CONCURRENCY = 64;
const CONCURRENT_MS = 3000;

type Variant = "direct" | "off" | "on";

const CALL_TIMEOUT_MS = 30_000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

async function call(url: string, auth: boolean, stream: boolean): Promise<{ total: number; ttft: number }> {
  const t0 = performance.now();
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${KEY}` } : {}) },
    body: JSON.stringify({ model: "bench", stream, messages: [{ role: "user", content: PROMPT }] }),
    // A stuck request must end the run with an error naming the URL, not hang it.
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${await r.text()}`);
  if (!stream) {
    await r.arrayBuffer();
    const t = performance.now() - t0;
    return { total: t, ttft: t };
  }
  const reader = r.body!.getReader();
  const decoder = new TextDecoder();
  let ttft = -1;
  let seen = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (ttft < 0) {
      // The first chunk only announces the role (`"content":""`); the first token has text.
      seen += decoder.decode(value, { stream: true });
      if (/"content":"[^"]/.test(seen)) ttft = performance.now() - t0;
    }
  }
  return { total: performance.now() - t0, ttft: ttft < 0 ? performance.now() - t0 : ttft };
}

async function concurrent(url: string, auth: boolean): Promise<number> {
  let done = 0;
  const until = performance.now() + CONCURRENT_MS;
  const worker = async () => {
    while (performance.now() < until) {
      await call(url, auth, true);
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return done / ((performance.now() - t0) / 1000);
}

export async function run(): Promise<BenchResult[]> {
  process.env.PC_BENCH_MODELS_KEY = KEY;
  let fake: FakeProvider | undefined;
  const gateways: TestGateway[] = [];
  try {
    fake = await startFakeProvider({
      format: "openai_chat",
      // Echoes the start of the prompt, so placeholders come back and are restored.
      script: (_req, ctx) => ({
        text: `Noted: ${ctx.lastUserText.slice(0, 160)}`,
        stream: { splitBytes: 0, textDeltaChars: 16 },
      }),
    });
    const models = (redaction: boolean) => ({
      providers: [
        { v: 1, id: "fake", kind: "openai_compatible", base_url: fake!.url, models: ["m"], local: true },
      ],
      routes: [
        { v: 1, id: "bench", match: {}, targets: [{ provider: "fake", model: "m" }], strategy: "single" },
      ],
      ...(redaction
        ? {
            redaction: {
              v: 1,
              id: "bench",
              detectors: ["secret", "email"],
              action: "reversible",
              allowed_providers: {},
            },
          }
        : {}),
    });
    for (const redaction of [false, true])
      gateways.push(
        await startTestGateway({
          apiKeys: [{ id: "bench", key: "env:PC_BENCH_MODELS_KEY" }],
          models: models(redaction),
        }),
      );
    const urls: Record<Variant, [string, boolean]> = {
      direct: [`${fake.url}/v1/chat/completions`, false],
      off: [`${gateways[0]!.base}/v1/chat/completions`, true],
      on: [`${gateways[1]!.base}/v1/chat/completions`, true],
    };
    const variants: Variant[] = ["direct", "off", "on"];
    const plain: Record<Variant, number[]> = { direct: [], off: [], on: [] };
    const streamed: Record<Variant, number[]> = { direct: [], off: [], on: [] };
    const ttft: Record<Variant, number[]> = { direct: [], off: [], on: [] };
    for (let i = 0; i < WARMUP + ROUNDS; i++)
      for (const v of i % 2 === 0 ? variants : [...variants].reverse()) {
        const [url, auth] = urls[v];
        const a = await call(url, auth, false);
        const b = await call(url, auth, true);
        if (i < WARMUP) continue;
        plain[v].push(a.total);
        streamed[v].push(b.total);
        ttft[v].push(b.ttft);
      }
    const row = (name: string, xs: Record<Variant, number[]>): BenchResult[] =>
      [50, 99].map((p) => {
        const f = Object.fromEntries(variants.map((v) => [v, round3(pct(xs[v], p))]));
        return {
          name: `models: ${name} p${p}`,
          unit: "ms",
          figures: f,
          ratios: {
            "off/direct": round3(f.off! / f.direct!),
            "on/direct": round3(f.on! / f.direct!),
            "overhead off ms": round3(f.off! - f.direct!),
            "overhead on ms": round3(f.on! - f.direct!),
          },
          notes: `${ROUNDS} rounds after ${WARMUP} warm-up, variants interleaved; policy + audit on`,
        };
      });
    const tt = Object.fromEntries(variants.map((v) => [v, round3(pct(ttft[v], 50))]));
    const rates: Record<string, number> = {};
    for (const v of variants) rates[v] = Math.round(await concurrent(...urls[v]));
    return [
      ...row("non-streamed", plain),
      ...row("streamed (whole answer)", streamed),
      {
        name: "models: time to first token p50",
        unit: "ms",
        figures: tt,
        ratios: {
          "on/off (target ≤ 1.1)": round3(tt.on! / tt.off!),
          "off/direct": round3(tt.off! / tt.direct!),
        },
        notes: "first SSE chunk carrying content",
      },
      {
        name: `models: ${CONCURRENCY} concurrent streams`,
        unit: "calls/s",
        figures: rates,
        ratios: {
          "off/direct": round3(rates.off! / rates.direct!),
          "on/direct": round3(rates.on! / rates.direct!),
        },
        notes: `${CONCURRENT_MS / 1000} s per variant`,
      },
    ];
  } finally {
    for (const g of gateways) await g.close();
    await fake?.close();
  }
}
