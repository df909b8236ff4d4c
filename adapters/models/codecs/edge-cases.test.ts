/** Each codec against hand-written wire text: the edge cases the providers' formats allow. */
import { describe, expect, it } from "vitest";
import { assembleStream } from "../assemble.js";
import { ModelRequestError, UnsupportedFeatureError } from "../errors.js";
import { SseParser } from "../sse.js";
import type { ChatStreamEvent, WireCodec } from "../types.js";
import {
  anthropicMessagesCodec,
  createOpenAIChatCodec,
  openaiChatCodec,
  openaiResponsesCodec,
} from "./index.js";

function decodeWire(codec: WireCodec, text: string): ChatStreamEvent[] {
  const parser = new SseParser();
  const decoder = codec.streamDecoder();
  const out: ChatStreamEvent[] = [];
  for (const sse of [...parser.push(new TextEncoder().encode(text)), ...parser.end()])
    out.push(...decoder.push(sse));
  out.push(...decoder.end());
  return out;
}

const d = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`;
const chunk = (delta: unknown, finish: string | null = null, extra: object = {}) =>
  d({
    id: "c1",
    object: "chat.completion.chunk",
    model: "gpt",
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  });
const named = (event: string, v: object) =>
  `event: ${event}\ndata: ${JSON.stringify({ type: event, ...v })}\n\n`;

describe("OpenAI Chat requests", () => {
  it("takes system and developer messages as system prompts, in order", () => {
    const r = openaiChatCodec.decodeRequest({
      model: "m",
      messages: [
        { role: "developer", content: "dev rules" },
        {
          role: "system",
          content: [
            { type: "text", text: "sys " },
            { type: "text", text: "rules" },
          ],
        },
        { role: "user", content: "hi" },
      ],
    });
    expect(r.system).toEqual(["dev rules", "sys rules"]);
    expect(r.messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }] }]);
  });

  it("keeps unmodelled fields for an OpenAI Chat target and refuses them for another", () => {
    const r = openaiChatCodec.decodeRequest({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      response_format: { type: "json_object" },
      n: 1,
      seed: 7,
    });
    expect(r.passthrough).toEqual({
      format: "openai_chat",
      fields: { response_format: { type: "json_object" }, seed: 7 },
    });
    expect(openaiChatCodec.encodeRequest(r, "x")).toMatchObject({
      response_format: { type: "json_object" },
      seed: 7,
    });
    expect(() => anthropicMessagesCodec.encodeRequest(r, "x")).toThrow(UnsupportedFeatureError);
    expect(() => anthropicMessagesCodec.encodeRequest(r, "x")).toThrow(/response_format/);
    expect(() => openaiResponsesCodec.encodeRequest(r, "x")).toThrow(/response_format/);
  });

  it("refuses n > 1 everywhere and a malformed request with a path", () => {
    expect(() =>
      openaiChatCodec.decodeRequest({ model: "m", n: 2, messages: [{ role: "user", content: "x" }] }),
    ).toThrow(UnsupportedFeatureError);
    expect(() =>
      openaiChatCodec.decodeRequest({ model: "m", messages: [{ role: "wizard", content: "x" }] }),
    ).toThrow(/messages\[0\]\.role/);
    expect(() => openaiChatCodec.decodeRequest({ messages: [] })).toThrow(ModelRequestError);
    expect(() => openaiChatCodec.decodeRequest({ model: "m", messages: [], temperature: 3 })).toThrow(
      ModelRequestError,
    );
  });

  it("writes max_completion_tokens for OpenAI and max_tokens for older compatible servers; always asks for stream usage", () => {
    const r = openaiChatCodec.decodeRequest({
      model: "m",
      max_tokens: 5,
      stream: true,
      messages: [{ role: "user", content: "x" }],
    });
    expect(openaiChatCodec.encodeRequest(r, "m")).toMatchObject({
      max_completion_tokens: 5,
      stream_options: { include_usage: true },
    });
    expect(createOpenAIChatCodec({ maxTokensField: "max_tokens" }).encodeRequest(r, "m")).toMatchObject({
      max_tokens: 5,
    });
  });

  it("refuses Anthropic-only fields and out-of-range values for OpenAI targets", () => {
    const r = anthropicMessagesCodec.decodeRequest({
      model: "m",
      max_tokens: 10,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "x" }],
    });
    expect(() => openaiChatCodec.encodeRequest(r, "m")).toThrow(/thinking/);
    expect(anthropicMessagesCodec.encodeRequest(r, "m")).toMatchObject({ thinking: { type: "enabled" } });
    const hot = openaiChatCodec.decodeRequest({
      model: "m",
      temperature: 1.5,
      messages: [{ role: "user", content: "x" }],
    });
    expect(() => anthropicMessagesCodec.encodeRequest(hot, "m")).toThrow(/temperature/);
  });
});

describe("OpenAI Chat streams", () => {
  it("reads a final usage chunk with empty or null choices", () => {
    for (const choices of [[], null]) {
      const text =
        chunk({ role: "assistant", content: "" }) +
        chunk({ content: "hi" }) +
        chunk({}, "stop") +
        d({
          id: "c1",
          object: "chat.completion.chunk",
          model: "gpt",
          choices,
          usage: { prompt_tokens: 3, completion_tokens: 1 },
        }) +
        "data: [DONE]\n\n";
      const a = assembleStream(decodeWire(openaiChatCodec, text));
      expect(a.result()).toMatchObject({
        content: [{ type: "text", text: "hi" }],
        usage: { input_tokens: 3, output_tokens: 1 },
      });
    }
  });

  it("reports the last running usage of servers that send it on every chunk, once, before done", () => {
    const u = (n: number) => ({ usage: { prompt_tokens: 3, completion_tokens: n } });
    const text =
      chunk({ role: "assistant", content: "" }, null, u(0)) +
      chunk({ content: "a" }, null, u(1)) +
      chunk({ content: "b" }, null, u(2)) +
      chunk({}, "stop", u(2)) +
      "data: [DONE]\n\n";
    const events = decodeWire(openaiChatCodec, text);
    expect(events.filter((e) => e.type === "usage")).toEqual([
      { type: "usage", usage: { input_tokens: 3, output_tokens: 2 } },
    ]);
    expect(events.slice(-2).map((e) => e.type)).toEqual(["usage", "done"]);
  });

  it("reads tool calls of servers that send each call whole, without an index", () => {
    const text =
      chunk({ role: "assistant", content: "" }) +
      chunk({ tool_calls: [{ id: "a", type: "function", function: { name: "f", arguments: '{"x":1}' } }] }) +
      chunk({ tool_calls: [{ id: "b", type: "function", function: { name: "g", arguments: "{}" } }] }) +
      chunk({}, "tool_calls") +
      "data: [DONE]\n\n";
    expect(assembleStream(decodeWire(openaiChatCodec, text)).result().content).toEqual([
      { type: "tool_call", id: "a", name: "f", arguments: '{"x":1}' },
      { type: "tool_call", id: "b", name: "g", arguments: "{}" },
    ]);
  });

  it("assembles interleaved parallel tool calls whose id and name come only in the first fragment", () => {
    const text =
      chunk({ role: "assistant", content: null }) +
      chunk({
        tool_calls: [{ index: 0, id: "a", type: "function", function: { name: "f", arguments: "" } }],
      }) +
      chunk({
        tool_calls: [{ index: 1, id: "b", type: "function", function: { name: "g", arguments: '{"y"' } }],
      }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] }) +
      chunk({ tool_calls: [{ index: 1, function: { arguments: ":2}" } }] }) +
      chunk({}, "tool_calls") +
      "data: [DONE]\n\n";
    expect(assembleStream(decodeWire(openaiChatCodec, text)).result()).toMatchObject({
      content: [
        { type: "tool_call", id: "a", name: "f", arguments: '{"x":1}' },
        { type: "tool_call", id: "b", name: "g", arguments: '{"y":2}' },
      ],
      stop_reason: "tool_use",
    });
  });

  it("turns an error payload after the 200 into an error, and a missing [DONE] into stream_cut", () => {
    const err = decodeWire(
      openaiChatCodec,
      chunk({ content: "par" }) + d({ error: { message: "overloaded", type: "server_error" } }),
    );
    expect(err.at(-1)).toEqual({
      type: "error",
      error: { code: "server_error", message: "overloaded", status: 502 },
    });
    const cut = decodeWire(openaiChatCodec, chunk({ content: "par" }) + chunk({}, "stop"));
    expect(cut.at(-1)).toMatchObject({ type: "error", error: { code: "stream_cut" } });
    const noFinish = decodeWire(openaiChatCodec, `${chunk({ content: "par" })}data: [DONE]\n\n`);
    expect(noFinish.at(-1)).toMatchObject({ type: "error", error: { code: "protocol_error" } });
  });
});

describe("Anthropic requests and streams", () => {
  it("reads system blocks, tool results with is_error, and any + disable_parallel_tool_use", () => {
    const r = anthropicMessagesCodec.decodeRequest({
      model: "m",
      max_tokens: 10,
      system: [
        { type: "text", text: "one" },
        { type: "text", text: "two" },
      ],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      messages: [
        { role: "user", content: "q" },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: { a: 1 } }] },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "t1",
              content: [{ type: "text", text: "boom" }],
              is_error: true,
            },
            { type: "text", text: "and?" },
          ],
        },
      ],
    });
    expect(r.system).toEqual(["one", "two"]);
    expect(r.tool_choice).toBe("required");
    expect(r.parallel_tool_calls).toBe(false);
    expect(r.messages.slice(2)).toEqual([
      {
        role: "tool",
        content: [{ type: "tool_result", tool_call_id: "t1", content: "boom", is_error: true }],
      },
      { role: "user", content: [{ type: "text", text: "and?" }] },
    ]);
    expect(openaiChatCodec.encodeRequest(r, "m").messages).toContainEqual({
      role: "tool",
      tool_call_id: "t1",
      content: "boom",
    });
  });

  it("requires max_tokens from an Anthropic caller and fills a default for other callers", () => {
    expect(() =>
      anthropicMessagesCodec.decodeRequest({ model: "m", messages: [{ role: "user", content: "x" }] }),
    ).toThrow(/max_tokens/);
    const r = openaiChatCodec.decodeRequest({ model: "m", messages: [{ role: "user", content: "x" }] });
    expect(anthropicMessagesCodec.encodeRequest(r, "m").max_tokens).toBe(4096);
  });

  it("ignores ping and thinking blocks, gives an argument-less tool call {}, and ends on an error event after 200", () => {
    const start = named("message_start", {
      message: { id: "msg", model: "claude", usage: { input_tokens: 4, output_tokens: 1 } },
    });
    const text =
      start +
      named("ping", {}) +
      named("content_block_start", { index: 0, content_block: { type: "thinking", thinking: "" } }) +
      named("content_block_delta", { index: 0, delta: { type: "thinking_delta", thinking: "hmm" } }) +
      named("content_block_stop", { index: 0 }) +
      named("content_block_start", {
        index: 1,
        content_block: { type: "tool_use", id: "t", name: "now", input: {} },
      }) +
      named("content_block_stop", { index: 1 }) +
      named("message_delta", { delta: { stop_reason: "tool_use" }, usage: { output_tokens: 6 } }) +
      named("message_stop", {});
    expect(assembleStream(decodeWire(anthropicMessagesCodec, text)).result()).toEqual({
      id: "msg",
      model: "claude",
      content: [{ type: "tool_call", id: "t", name: "now", arguments: "{}" }],
      stop_reason: "tool_use",
      usage: { input_tokens: 4, output_tokens: 6 },
    });
    const failed = decodeWire(
      anthropicMessagesCodec,
      `${start}${named("error", { error: { type: "overloaded_error", message: "Overloaded" } })}`,
    );
    expect(failed.at(-1)).toEqual({
      type: "error",
      error: { code: "server_error", message: "Overloaded", status: 502 },
    });
  });
});

describe("OpenAI Responses requests and streams", () => {
  it("reads instructions, developer items, function calls and their outputs; refuses stop sequences as a target", () => {
    const r = openaiResponsesCodec.decodeRequest({
      model: "m",
      instructions: "be kind",
      input: [
        { role: "developer", content: "no jokes" },
        { role: "user", content: [{ type: "input_text", text: "time?" }] },
        { type: "function_call", call_id: "c", name: "clock", arguments: "{}" },
        { type: "function_call_output", call_id: "c", output: "noon" },
      ],
    });
    expect(r.system).toEqual(["be kind", "no jokes"]);
    expect(r.messages.slice(1)).toEqual([
      { role: "assistant", content: [{ type: "tool_call", id: "c", name: "clock", arguments: "{}" }] },
      { role: "tool", content: [{ type: "tool_result", tool_call_id: "c", content: "noon" }] },
    ]);
    expect(openaiResponsesCodec.encodeRequest(r, "m").store).toBe(false);
    const withStop = openaiChatCodec.decodeRequest({
      model: "m",
      stop: "END",
      messages: [{ role: "user", content: "x" }],
    });
    expect(() => openaiResponsesCodec.encodeRequest(withStop, "m")).toThrow(/stop sequences/);
  });

  it("maps response.incomplete to max_tokens, response.failed to an error, and a sequence going back to a protocol error", () => {
    const created = named("response.created", { sequence_number: 0, response: { id: "r", model: "gpt" } });
    const part = named("response.content_part.added", {
      sequence_number: 1,
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: "" },
    });
    const delta = (n: number) =>
      named("response.output_text.delta", {
        sequence_number: n,
        output_index: 0,
        content_index: 0,
        delta: "a",
      });
    const incomplete = named("response.incomplete", {
      sequence_number: 3,
      response: {
        status: "incomplete",
        incomplete_details: { reason: "max_output_tokens" },
        usage: { input_tokens: 1, output_tokens: 2 },
      },
    });
    expect(
      assembleStream(decodeWire(openaiResponsesCodec, created + part + delta(2) + incomplete)).result(),
    ).toMatchObject({
      content: [{ type: "text", text: "a" }],
      stop_reason: "max_tokens",
      usage: { input_tokens: 1, output_tokens: 2 },
    });
    const failed = named("response.failed", {
      sequence_number: 3,
      response: { status: "failed", error: { message: "bad" } },
    });
    expect(decodeWire(openaiResponsesCodec, created + part + delta(2) + failed).at(-1)).toMatchObject({
      type: "error",
      error: { message: "bad" },
    });
    expect(decodeWire(openaiResponsesCodec, created + part + delta(1)).at(-1)).toMatchObject({
      type: "error",
      error: { code: "protocol_error" },
    });
  });
});

describe("every stream decoder", () => {
  it.each([openaiChatCodec, openaiResponsesCodec, anthropicMessagesCodec])(
    "$format: a payload that is not a JSON object ends the stream, and nothing follows it",
    (codec) => {
      const out = decodeWire(codec, "data: {not json\n\ndata: {}\n\n");
      expect(out).toEqual([
        {
          type: "error",
          error: { code: "protocol_error", message: expect.stringContaining("{not json"), status: 502 },
        },
      ]);
    },
  );

  it("maps a rate limit reported after the 200 to rate_limited in both OpenAI formats", () => {
    const limited = { type: "error", error: { code: "rate_limited", message: "slow down", status: 429 } };
    const chat = decodeWire(
      openaiChatCodec,
      d({ error: { message: "slow down", code: "rate_limit_exceeded" } }),
    );
    expect(chat).toEqual([limited]);
    const responses = decodeWire(
      openaiResponsesCodec,
      named("error", { code: "rate_limit_exceeded", message: "slow down" }),
    );
    expect(responses).toEqual([limited]);
  });
});
