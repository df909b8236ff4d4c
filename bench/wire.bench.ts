/**
 * The model wire path alone (no router, no redaction): the cost per event of parsing SSE and
 * decoding each provider format, the cost per event of encoding each format, and one provider
 * adapter against plain undici reading the same stream from the fake OpenAI Chat provider on
 * 127.0.0.1 — time to the first token and to the end of a 200-delta stream, side by side in one
 * run. The fake is stopped before `run()` resolves.
 */
import { performance } from "node:perf_hooks";
import { request } from "undici";
import { CODECS } from "../adapters/models/codecs/index.js";
import { createProviderAdapter } from "../adapters/models/provider.js";
import { SseParser } from "../adapters/models/sse.js";
import type { ChatStreamEvent, WireFormat } from "../adapters/models/types.js";
import { startFakeProvider } from "../conformance/providers/fake-provider.js";
import type { BenchResult } from "./types.js";

const DELTAS = 2_000;
const ROUNDS = 30;

function textStream(deltas: number): ChatStreamEvent[] {
  const events: ChatStreamEvent[] = [
    { type: "start", id: "bench", model: "m" },
    { type: "part_start", index: 0, part: { type: "text" } },
  ];
  for (let i = 0; i < deltas; i++) events.push({ type: "text_delta", index: 0, text: `tok${i % 10} ` });
  events.push(
    { type: "part_stop", index: 0 },
    { type: "finish", stop_reason: "end_turn" },
    { type: "usage", usage: { input_tokens: 1, output_tokens: deltas } },
    { type: "done" },
  );
  return events;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

function codecCosts(): BenchResult[] {
  const events = textStream(DELTAS);
  const decode: Record<string, number> = {};
  const encode: Record<string, number> = {};
  for (const [format, codec] of Object.entries(CODECS) as [WireFormat, (typeof CODECS)[WireFormat]][]) {
    const frames = (() => {
      const encoder = codec.streamEncoder({
        model: "m",
        system: [],
        messages: [],
        stream: true,
        include_usage: true,
      });
      return events.flatMap((e) => encoder.push(e)).join("");
    })();
    const bytes = new TextEncoder().encode(frames);
    const decodeRuns: number[] = [];
    const encodeRuns: number[] = [];
    for (let r = 0; r < ROUNDS + 5; r++) {
      let t = performance.now();
      const parser = new SseParser();
      const decoder = codec.streamDecoder();
      let n = 0;
      for (let i = 0; i < bytes.length; i += 1400)
        for (const sse of parser.push(bytes.subarray(i, i + 1400))) n += decoder.push(sse).length;
      n += decoder.end().length;
      if (n < events.length) throw new Error(`${format}: decoded ${n} of ${events.length} events`);
      if (r >= 5) decodeRuns.push(((performance.now() - t) * 1000) / events.length);
      t = performance.now();
      const encoder = codec.streamEncoder({
        model: "m",
        system: [],
        messages: [],
        stream: true,
        include_usage: true,
      });
      for (const e of events) encoder.push(e);
      if (r >= 5) encodeRuns.push(((performance.now() - t) * 1000) / events.length);
    }
    decode[format] = round(median(decodeRuns));
    encode[format] = round(median(encodeRuns));
  }
  const notes = `${DELTAS}-delta text stream, bytes fed in 1400-byte chunks; median of ${ROUNDS} rounds after 5 warm-up`;
  return [
    { name: "wire: SSE parse + decode per event", unit: "µs", figures: decode, notes },
    { name: "wire: encode per event", unit: "µs", figures: encode, notes },
  ];
}

async function adapterVsRaw(): Promise<BenchResult> {
  const fake = await startFakeProvider({
    format: "openai_chat",
    script: { text: "x".repeat(600), stream: { splitBytes: 0, textDeltaChars: 3 } },
  });
  const adapter = createProviderAdapter({
    v: 1,
    id: "fake",
    kind: "openai",
    base_url: fake.url,
    models: ["m"],
    local: true,
  });
  const body = JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
  const ask = {
    model: "m",
    system: [],
    messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "hi" }] }],
    stream: true,
  };
  const target = { provider: adapter.target.provider, model: "m" };
  const samples = {
    raw_ttft: [] as number[],
    adapter_ttft: [] as number[],
    raw_total: [] as number[],
    adapter_total: [] as number[],
  };
  try {
    for (let i = 0; i < 160; i++) {
      const measured = i >= 40;
      // Alternate the order so drift on a noisy machine hits both sides alike.
      for (const side of i % 2 === 0 ? (["raw", "adapter"] as const) : (["adapter", "raw"] as const)) {
        const t0 = performance.now();
        let first = 0;
        if (side === "raw") {
          const res = await request(`${fake.url}/v1/chat/completions`, {
            method: "POST",
            body,
            headers: { "content-type": "application/json" },
          });
          const parser = new SseParser();
          for await (const chunk of res.body) {
            for (const sse of parser.push(chunk as Uint8Array))
              if (!first && sse.data.includes('"content":"x')) first = performance.now();
          }
        } else {
          for await (const e of adapter.stream(ask, target, { signal: new AbortController().signal })) {
            if (!first && e.type === "text_delta") first = performance.now();
          }
        }
        if (measured) {
          samples[`${side}_ttft`].push(first - t0);
          samples[`${side}_total`].push(performance.now() - t0);
        }
      }
    }
  } finally {
    await adapter.close();
    await fake.close();
  }
  const figures = Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [`${k}_p50`, round(median(v), 3)]),
  );
  return {
    name: "wire: adapter vs raw undici, fake OpenAI Chat stream",
    unit: "ms",
    figures,
    ratios: {
      "ttft adapter/raw": round((figures.adapter_ttft_p50 ?? 0) / (figures.raw_ttft_p50 ?? 1)),
      "total adapter/raw": round((figures.adapter_total_p50 ?? 0) / (figures.raw_total_p50 ?? 1)),
    },
    notes:
      "200 deltas per stream, whole frames; 120 measured streams per side after 40 warm-up, sides alternated",
  };
}

export async function run(): Promise<BenchResult[]> {
  return [...codecCosts(), await adapterVsRaw()];
}
