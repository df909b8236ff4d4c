/**
 * Whatever a provider sends, a decoder never throws and its output obeys the neutral stream
 * grammar (checked by `StreamAssembler`), ending in `done` or `error` once `end()` is called.
 * Sequences are drawn with a seeded generator from each format's real events, shuffled, repeated,
 * dropped and mixed with malformed ones.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../../gateway/random.js";
import { StreamAssembler } from "../assemble.js";
import type { SseEvent, WireFormat } from "../types.js";
import { CODECS } from "./index.js";

const rng = seededRandom;

const j = (v: unknown, event?: string): SseEvent => ({
  data: JSON.stringify(v),
  ...(event ? { event } : {}),
});
const junk: SseEvent[] = [{ data: "not json" }, { data: "[1,2]" }, { data: "{}" }, { data: "null" }];

const chat = (delta: object, finish: string | null = null, index = 0) =>
  j({ id: "c", model: "m", choices: [{ index, delta, finish_reason: finish }] });
const VOCAB: Record<WireFormat, SseEvent[]> = {
  openai_chat: [
    chat({ role: "assistant", content: "" }),
    chat({ content: "hi" }),
    chat({ refusal: "no" }),
    chat({ tool_calls: [{ index: 0, id: "a", type: "function", function: { name: "f", arguments: "" } }] }),
    chat({ tool_calls: [{ index: 1, id: "b", type: "function", function: { name: "g", arguments: "{" } }] }),
    chat({ tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] }),
    chat({ tool_calls: [{ index: 2, function: { arguments: "}" } }] }),
    chat({ tool_calls: [{ id: "c", function: { name: "h", arguments: "{}" } }] }),
    chat({}, "stop"),
    chat({}, "tool_calls"),
    chat({}, "weird"),
    j({ id: "c", model: "m", choices: [], usage: { prompt_tokens: 1, completion_tokens: 2 } }),
    j({ id: "c", model: "m", choices: null, usage: { prompt_tokens: 1, completion_tokens: 2 } }),
    j({ error: { message: "boom", type: "server_error" } }),
    { data: "[DONE]" },
  ],
  anthropic_messages: [
    j({ type: "message_start", message: { id: "m", model: "c", usage: { input_tokens: 3 } } }),
    j({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    j({
      type: "content_block_start",
      index: 1,
      content_block: { type: "tool_use", id: "t", name: "f", input: {} },
    }),
    j({ type: "content_block_start", index: 2, content_block: { type: "thinking", thinking: "" } }),
    j({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "a" } }),
    j({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"a":' } }),
    j({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "wrong kind" } }),
    j({ type: "content_block_delta", index: 2, delta: { type: "thinking_delta", thinking: "x" } }),
    j({ type: "content_block_stop", index: 0 }),
    j({ type: "content_block_stop", index: 1 }),
    j({ type: "content_block_stop", index: 2 }),
    j({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 4 } }),
    j({ type: "message_delta", delta: { stop_reason: "bogus" } }),
    j({ type: "ping" }, "ping"),
    j({ type: "error", error: { type: "overloaded_error", message: "busy" } }, "error"),
    j({ type: "message_stop" }),
  ],
  openai_responses: [
    j({ type: "response.created", response: { id: "r", model: "m" } }),
    j({ type: "response.in_progress" }),
    j({ type: "response.output_item.added", output_index: 0, item: { type: "message" } }),
    j({
      type: "response.content_part.added",
      output_index: 0,
      content_index: 0,
      part: { type: "output_text" },
    }),
    j({ type: "response.output_text.delta", output_index: 0, content_index: 0, delta: "a" }),
    j({ type: "response.content_part.done", output_index: 0, content_index: 0 }),
    j({
      type: "response.output_item.added",
      output_index: 1,
      item: { type: "function_call", call_id: "c", name: "f" },
    }),
    j({ type: "response.function_call_arguments.delta", output_index: 1, delta: "{}" }),
    j({
      type: "response.output_item.done",
      output_index: 1,
      item: { type: "function_call", arguments: "{}" },
    }),
    j({
      type: "response.completed",
      response: { status: "completed", usage: { input_tokens: 1, output_tokens: 1 } },
    }),
    j({
      type: "response.incomplete",
      response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } },
    }),
    j({ type: "response.failed", response: { error: { message: "x" } } }),
    j({ type: "error", code: "rate_limit_exceeded", message: "slow down" }),
    j({
      type: "response.output_text.delta",
      sequence_number: 0,
      output_index: 0,
      content_index: 0,
      delta: "b",
    }),
  ],
};

describe.each(Object.keys(VOCAB) as WireFormat[])("%s decoder under random input", (format) => {
  it("never throws and always keeps the neutral grammar", () => {
    const next = rng(format.length * 7919);
    const vocab = [...VOCAB[format], ...junk];
    let done = 0;
    let errors = 0;
    for (let round = 0; round < 3000; round++) {
      const length = 1 + Math.floor(next() * 14);
      // Half the rounds start like a real stream (the vocabulary in order, with gaps).
      const sequence: SseEvent[] = [];
      if (round % 2 === 0) {
        for (const e of VOCAB[format]) if (next() < 0.7) sequence.push(e);
      }
      for (let i = 0; i < length; i++) sequence.push(vocab[Math.floor(next() * vocab.length)] as SseEvent);
      const decoder = CODECS[format].streamDecoder();
      const assembler = new StreamAssembler();
      const feed = (events: ReturnType<typeof decoder.end>) => {
        for (const e of events) assembler.push(e);
      };
      try {
        for (const sse of sequence) feed(decoder.push(sse));
        feed(decoder.end());
      } catch (e) {
        throw new Error(`round ${round}: ${(e as Error).message}\n${sequence.map((s) => s.data).join("\n")}`);
      }
      expect(assembler.outcome, `round ${round}`).toBeDefined();
      if (assembler.outcome === "done") done++;
      else errors++;
    }
    // Both endings occur, so the generator reaches real successes as well as failures.
    expect(done).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
  });
});
