/**
 * OpenAI Chat Completions as a fake provider writes it: `chat.completion` bodies, and streams of
 * `chat.completion.chunk` frames — a first chunk carrying the role, text deltas, tool-call deltas
 * keyed by `index` with the id and name only in each call's first fragment (optionally interleaved
 * across parallel calls), a chunk with `finish_reason`, with `stream_options.include_usage` a final
 * usage chunk whose `choices` is empty (or null, as some compatible servers send), then `[DONE]`.
 */
import {
  type FakeAnswer,
  type FakeWire,
  frame,
  pieces,
  stopOf,
  textOf,
  usageOf,
  type WireContext,
} from "./types.js";

const FINISH: Record<NonNullable<FakeAnswer["stop"]>, string> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  content_filter: "content_filter",
};

const CREATED = 1_767_225_600;

function callId(answer: FakeAnswer, i: number, serial: number): string {
  return answer.toolCalls?.[i]?.id ?? `call_${serial}_${i}`;
}

export const openaiChatWire: FakeWire = {
  path: "/v1/chat/completions",

  isStream: (body) => body.stream === true,

  lastUserText(body) {
    const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [];
    const last = [...messages].reverse().find((m) => m?.role === "user");
    return last ? textOf(last.content) : "";
  },

  json(answer, ctx) {
    const usage = usageOf(answer, ctx.body);
    const toolCalls = (answer.toolCalls ?? []).map((c, i) => ({
      id: callId(answer, i, ctx.serial),
      type: "function",
      function: { name: c.name, arguments: c.arguments },
    }));
    return {
      id: `chatcmpl-${ctx.serial}`,
      object: "chat.completion",
      created: CREATED,
      model: ctx.model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: answer.text ? answer.text : null,
            refusal: null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          logprobs: null,
          finish_reason: FINISH[stopOf(answer)],
        },
      ],
      usage: {
        prompt_tokens: usage.input,
        completion_tokens: usage.output,
        total_tokens: usage.input + usage.output,
      },
      system_fingerprint: "fp_fake",
    };
  },

  frames(answer, ctx, shape) {
    const includeUsage =
      typeof ctx.body.stream_options === "object" &&
      ctx.body.stream_options !== null &&
      (ctx.body.stream_options as { include_usage?: unknown }).include_usage === true;
    const chunk = (choices: unknown[] | null, usage?: unknown) =>
      frame({
        id: `chatcmpl-${ctx.serial}`,
        object: "chat.completion.chunk",
        created: CREATED,
        model: ctx.model,
        system_fingerprint: "fp_fake",
        choices,
        ...(includeUsage ? { usage: usage ?? null } : {}),
      });
    const delta = (d: Record<string, unknown>, finish: string | null = null) =>
      chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);

    const out = [delta({ role: "assistant", content: "", refusal: null })];
    for (const piece of pieces(answer.text ?? "", shape.textDeltaChars ?? 3))
      out.push(delta({ content: piece }));

    const calls = answer.toolCalls ?? [];
    const fragments = calls.map((c) => pieces(c.arguments, 4));
    const first = calls.map((c, i) =>
      delta({
        tool_calls: [
          {
            index: i,
            id: callId(answer, i, ctx.serial),
            type: "function",
            function: { name: c.name, arguments: "" },
          },
        ],
      }),
    );
    const argument = (i: number, text: string) =>
      delta({ tool_calls: [{ index: i, function: { arguments: text } }] });
    if (shape.interleave) {
      out.push(...first);
      const longest = Math.max(0, ...fragments.map((f) => f.length));
      for (let k = 0; k < longest; k++) {
        fragments.forEach((f, i) => {
          const text = f[k];
          if (text !== undefined) out.push(argument(i, text));
        });
      }
    } else {
      calls.forEach((_, i) => {
        out.push(first[i] as string);
        for (const text of fragments[i] ?? []) out.push(argument(i, text));
      });
    }
    out.push(delta({}, FINISH[stopOf(answer)]));
    if (includeUsage) {
      const usage = usageOf(answer, ctx.body);
      out.push(
        chunk(shape.usageChoices === "null" ? null : [], {
          prompt_tokens: usage.input,
          completion_tokens: usage.output,
          total_tokens: usage.input + usage.output,
        }),
      );
    }
    out.push("data: [DONE]\n\n");
    return out;
  },

  errorBody(status, message) {
    const type =
      status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
    return { error: { message, type, param: null, code: status === 429 ? "rate_limit_exceeded" : null } };
  },

  errorFrame(message) {
    return frame({ error: { message, type: "server_error", param: null, code: null } });
  },

  pingFrame: () => ": keep-alive\n\n",
};

export type { WireContext };
