/**
 * Round trips per codec and translations across every pair of formats: a neutral request,
 * response and stream encoded into format A, decoded, encoded into B and decoded again must say
 * the same thing.
 */
import { describe, expect, it } from "vitest";
import { assembleStream } from "../assemble.js";
import { SseParser } from "../sse.js";
import type { ChatRequest, ChatResponse, ChatStreamEvent, WireCodec, WireFormat } from "../types.js";
import { CODECS } from "./index.js";

const FORMATS = Object.keys(CODECS) as WireFormat[];
const PAIRS = FORMATS.flatMap((a) => FORMATS.map((b) => [a, b] as const));

/** A request every format can carry. */
const request: ChatRequest = {
  model: "alias-fast",
  system: ["You are terse."],
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "What is in this picture? Also check the weather — ünïcødé 🚀" },
        { type: "image", url: "https://images.example/cat.png" },
      ],
    },
    {
      role: "assistant",
      content: [
        { type: "text", text: "Checking two cities." },
        { type: "tool_call", id: "call_1", name: "weather", arguments: '{"city":"Paris"}' },
        { type: "tool_call", id: "call_2", name: "weather", arguments: '{"city":"Oslo"}' },
      ],
    },
    {
      role: "tool",
      content: [
        { type: "tool_result", tool_call_id: "call_1", content: "sunny" },
        { type: "tool_result", tool_call_id: "call_2", content: "snow" },
      ],
    },
    { role: "user", content: [{ type: "text", text: "Summarise." }] },
  ],
  tools: [
    {
      name: "weather",
      description: "Weather by city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  ],
  tool_choice: "required",
  parallel_tool_calls: false,
  max_tokens: 300,
  temperature: 0.5,
  top_p: 0.9,
  stream: true,
  user: "user-7",
};

/** Drops what a format fills in by itself (Responses' explicit `strict: false`). */
function normal(r: ChatRequest): ChatRequest {
  const copy = structuredClone(r);
  for (const t of copy.tools ?? []) if (t.strict === false) delete t.strict;
  delete copy.passthrough;
  // The chat codec always asks a provider for stream usage (the gateway accounts it).
  delete copy.include_usage;
  return copy;
}

function via(codec: WireCodec, r: ChatRequest): ChatRequest {
  const wire = JSON.parse(JSON.stringify(codec.encodeRequest(r, r.model)));
  return codec.decodeRequest(wire);
}

describe("requests", () => {
  it.each(FORMATS)("%s: decode(encode(request)) is the request", (format) => {
    expect(normal(via(CODECS[format], request))).toEqual(request);
  });

  it.each(PAIRS)("%s → %s carries the request unchanged", (a, b) => {
    const first = via(CODECS[a], request);
    expect(normal(via(CODECS[b], normal(first)))).toEqual(request);
  });

  it("uses the provider's model name, not the alias", () => {
    for (const format of FORMATS)
      expect(CODECS[format].encodeRequest(request, "real-model").model).toBe("real-model");
  });

  it.each(FORMATS)("%s: of several bad options, the first in reading order is named", (format) => {
    const encoded = CODECS[format].encodeRequest(request, "m");
    const refusal = (bad: Record<string, unknown>) => {
      try {
        CODECS[format].decodeRequest({ ...encoded, ...bad });
      } catch (e) {
        return (e as Error).message;
      }
      return "accepted";
    };
    const stop = format === "anthropic_messages" ? "stop_sequences" : "stop";
    expect(refusal({ model: "", temperature: 9 })).toMatch(/^model:/);
    expect(refusal({ temperature: 9, top_p: 2, [stop]: 1 })).toMatch(/^temperature:/);
    expect(refusal({ top_p: 2, [stop]: 1 })).toMatch(/^top_p:/);
    if (format !== "openai_responses") expect(refusal({ [stop]: 1, metadata: 1 })).toMatch(/^stop/);
    if (format !== "anthropic_messages") {
      expect(refusal({ parallel_tool_calls: 1, temperature: 9 })).toMatch(/^parallel_tool_calls:/);
      expect(refusal({ user: 1, metadata: 1 })).toMatch(/^user:/);
    } else expect(refusal({ max_tokens: 0, tools: 1 })).toMatch(/^max_tokens:/);
  });
});

const response: ChatResponse = {
  id: "resp-1",
  model: "provider-model",
  content: [
    { type: "text", text: "Here: ✓" },
    { type: "tool_call", id: "call_9", name: "lookup", arguments: '{"q":"x"}' },
  ],
  stop_reason: "tool_use",
  usage: { input_tokens: 12, output_tokens: 7 },
};

describe("responses", () => {
  it.each(PAIRS)("%s → %s carries the answer, stop reason and usage", (a, b) => {
    const first = CODECS[a].decodeResponse(JSON.parse(JSON.stringify(CODECS[a].encodeResponse(response))));
    const second = CODECS[b].decodeResponse(JSON.parse(JSON.stringify(CODECS[b].encodeResponse(first))));
    expect(second).toEqual(response);
  });

  it.each(FORMATS)("%s carries every stop reason", (format) => {
    for (const stop of ["end_turn", "max_tokens", "content_filter"] as const) {
      const r: ChatResponse = { ...response, content: [{ type: "text", text: "t" }], stop_reason: stop };
      expect(CODECS[format].decodeResponse(CODECS[format].encodeResponse(r)).stop_reason).toBe(stop);
    }
  });
});

/** Encodes events into a format's frames, re-splits the bytes, parses and decodes them. */
function streamVia(codec: WireCodec, events: ChatStreamEvent[], split = 5): ChatStreamEvent[] {
  const encoder = codec.streamEncoder({ ...request, include_usage: true });
  const bytes = new TextEncoder().encode(events.flatMap((e) => encoder.push(e)).join(""));
  const parser = new SseParser();
  const decoder = codec.streamDecoder();
  const out: ChatStreamEvent[] = [];
  for (let i = 0; i < bytes.length; i += split) {
    for (const sse of parser.push(bytes.subarray(i, i + split))) out.push(...decoder.push(sse));
  }
  for (const sse of parser.end()) out.push(...decoder.push(sse));
  out.push(...decoder.end());
  return out;
}

const sequential: ChatStreamEvent[] = [
  { type: "start", id: "s-1", model: "provider-model" },
  { type: "part_start", index: 0, part: { type: "text" } },
  { type: "text_delta", index: 0, text: "Hel" },
  { type: "text_delta", index: 0, text: "lo ☃" },
  { type: "part_stop", index: 0 },
  { type: "part_start", index: 1, part: { type: "tool_call", id: "call_a", name: "weather" } },
  { type: "tool_arguments_delta", index: 1, arguments: '{"city":' },
  { type: "tool_arguments_delta", index: 1, arguments: '"Paris"}' },
  { type: "part_stop", index: 1 },
  { type: "finish", stop_reason: "tool_use" },
  { type: "usage", usage: { input_tokens: 5, output_tokens: 9 } },
  { type: "done" },
];

/** Two tool calls whose argument deltas interleave, as parallel OpenAI calls do. */
const interleaved: ChatStreamEvent[] = [
  { type: "start", id: "s-2", model: "provider-model" },
  { type: "part_start", index: 0, part: { type: "tool_call", id: "call_a", name: "weather" } },
  { type: "part_start", index: 1, part: { type: "tool_call", id: "call_b", name: "time" } },
  { type: "tool_arguments_delta", index: 0, arguments: '{"city":' },
  { type: "tool_arguments_delta", index: 1, arguments: '{"zone":' },
  { type: "tool_arguments_delta", index: 0, arguments: '"Oslo"}' },
  { type: "tool_arguments_delta", index: 1, arguments: '"UTC"}' },
  { type: "part_stop", index: 0 },
  { type: "part_stop", index: 1 },
  { type: "finish", stop_reason: "tool_use" },
  { type: "usage", usage: { input_tokens: 5, output_tokens: 9 } },
  { type: "done" },
];

describe("streams", () => {
  it.each(FORMATS)("%s: a decoded stream keeps the neutral grammar and says the same", (format) => {
    for (const events of [sequential, interleaved]) {
      const expected = assembleStream(events).result();
      const decoded = assembleStream(streamVia(CODECS[format], events));
      expect(decoded.outcome).toBe("done");
      expect(decoded.result()).toEqual(expected);
    }
  });

  it.each(PAIRS)("%s → %s carries a stream with parallel tool calls", (a, b) => {
    for (const events of [sequential, interleaved]) {
      const once = streamVia(CODECS[a], events, 3);
      const twice = streamVia(CODECS[b], once, 11);
      expect(assembleStream(twice).result()).toEqual(assembleStream(events).result());
    }
  });

  it.each(FORMATS)("%s carries every stop reason in a stream", (format) => {
    for (const stop of ["end_turn", "max_tokens", "content_filter"] as const) {
      const events: ChatStreamEvent[] = [
        { type: "start", id: "s", model: "m" },
        { type: "part_start", index: 0, part: { type: "text" } },
        { type: "text_delta", index: 0, text: "x" },
        { type: "part_stop", index: 0 },
        { type: "finish", stop_reason: stop },
        { type: "usage", usage: { input_tokens: 1, output_tokens: 1 } },
        { type: "done" },
      ];
      expect(assembleStream(streamVia(CODECS[format], events)).result().stop_reason).toBe(stop);
    }
  });

  it.each(FORMATS)("%s: an error frame decodes to the same error code class", (format) => {
    const events: ChatStreamEvent[] = [
      { type: "start", id: "s", model: "m" },
      { type: "part_start", index: 0, part: { type: "text" } },
      { type: "text_delta", index: 0, text: "partial" },
      { type: "error", error: { code: "server_error", message: "upstream fell over", status: 502 } },
    ];
    const out = streamVia(CODECS[format], events);
    const last = out.at(-1);
    expect(last).toMatchObject({ type: "error", error: { message: "upstream fell over" } });
    expect(out.filter((e) => e.type === "error")).toHaveLength(1);
  });

  it.each(FORMATS)(
    "%s: a stream cut before its terminal event ends in stream_cut, never success",
    (format) => {
      const encoder = CODECS[format].streamEncoder({ ...request, include_usage: true });
      const frames = sequential.flatMap((e) => encoder.push(e));
      // Every proper prefix of the frames is a cut stream.
      for (let n = 0; n < frames.length - 1; n++) {
        const parser = new SseParser();
        const decoder = CODECS[format].streamDecoder();
        const out: ChatStreamEvent[] = [];
        for (const sse of parser.push(new TextEncoder().encode(frames.slice(0, n + 1).join(""))))
          out.push(...decoder.push(sse));
        out.push(...decoder.end());
        expect(out.some((e) => e.type === "done")).toBe(false);
        expect(out.at(-1), `cut after frame ${n}`).toMatchObject({
          type: "error",
          error: { code: "stream_cut" },
        });
      }
    },
  );
});
