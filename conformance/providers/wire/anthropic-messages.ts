/**
 * Anthropic Messages as a fake provider writes it: `message` bodies with `text` and `tool_use`
 * blocks, and streams of named events — `message_start`, per block `content_block_start`,
 * `content_block_delta` (`text_delta` / `input_json_delta`), `content_block_stop`, then
 * `message_delta` (stop reason, output usage) and `message_stop`; `ping` keep-alives; an `error`
 * event after the 200.
 */
import { type FakeAnswer, type FakeWire, frame, pieces, stopOf, textOf, usageOf } from "./types.js";

const STOP: Record<NonNullable<FakeAnswer["stop"]>, string> = {
  end_turn: "end_turn",
  stop_sequence: "stop_sequence",
  max_tokens: "max_tokens",
  tool_use: "tool_use",
  // Anthropic's own name for a stop imposed by its safety systems.
  content_filter: "refusal",
};

function toolId(answer: FakeAnswer, i: number, serial: number): string {
  return answer.toolCalls?.[i]?.id ?? `toolu_${serial}_${i}`;
}

function parseInput(args: string): unknown {
  try {
    return JSON.parse(args === "" ? "{}" : args);
  } catch {
    return {};
  }
}

function errorType(status: number): string {
  if (status === 429) return "rate_limit_error";
  if (status === 529) return "overloaded_error";
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  return status >= 500 ? "api_error" : "invalid_request_error";
}

export const anthropicMessagesWire: FakeWire = {
  path: "/v1/messages",

  isStream: (body) => body.stream === true,

  lastUserText(body) {
    const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [];
    const last = [...messages].reverse().find((m) => m?.role === "user");
    return last ? textOf(last.content) : "";
  },

  json(answer, ctx) {
    const usage = usageOf(answer, ctx.body);
    const content: unknown[] = [];
    if (answer.text) content.push({ type: "text", text: answer.text });
    (answer.toolCalls ?? []).forEach((c, i) => {
      content.push({
        type: "tool_use",
        id: toolId(answer, i, ctx.serial),
        name: c.name,
        input: parseInput(c.arguments),
      });
    });
    const stop = stopOf(answer);
    return {
      id: `msg_${ctx.serial}`,
      type: "message",
      role: "assistant",
      model: ctx.model,
      content,
      stop_reason: STOP[stop],
      stop_sequence: stop === "stop_sequence" ? (answer.stopSequence ?? "") : null,
      usage: { input_tokens: usage.input, output_tokens: usage.output },
    };
  },

  frames(answer, ctx, shape) {
    const usage = usageOf(answer, ctx.body);
    const out = [
      frame(
        {
          type: "message_start",
          message: {
            id: `msg_${ctx.serial}`,
            type: "message",
            role: "assistant",
            model: ctx.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: usage.input, output_tokens: 1 },
          },
        },
        "message_start",
      ),
    ];
    let index = 0;
    if (answer.text) {
      out.push(
        frame(
          { type: "content_block_start", index, content_block: { type: "text", text: "" } },
          "content_block_start",
        ),
      );
      if (shape.pings) out.push(this.pingFrame());
      for (const text of pieces(answer.text, shape.textDeltaChars ?? 3)) {
        out.push(
          frame(
            { type: "content_block_delta", index, delta: { type: "text_delta", text } },
            "content_block_delta",
          ),
        );
      }
      out.push(frame({ type: "content_block_stop", index }, "content_block_stop"));
      index++;
    }
    (answer.toolCalls ?? []).forEach((c, i) => {
      out.push(
        frame(
          {
            type: "content_block_start",
            index,
            content_block: { type: "tool_use", id: toolId(answer, i, ctx.serial), name: c.name, input: {} },
          },
          "content_block_start",
        ),
      );
      for (const partial_json of pieces(c.arguments, 4)) {
        out.push(
          frame(
            { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } },
            "content_block_delta",
          ),
        );
      }
      out.push(frame({ type: "content_block_stop", index }, "content_block_stop"));
      index++;
    });
    const stop = stopOf(answer);
    out.push(
      frame(
        {
          type: "message_delta",
          delta: {
            stop_reason: STOP[stop],
            stop_sequence: stop === "stop_sequence" ? (answer.stopSequence ?? "") : null,
          },
          usage: { output_tokens: usage.output },
        },
        "message_delta",
      ),
    );
    out.push(frame({ type: "message_stop" }, "message_stop"));
    return out;
  },

  errorBody(status, message) {
    return { type: "error", error: { type: errorType(status), message } };
  },

  errorFrame(message) {
    return frame({ type: "error", error: { type: "overloaded_error", message } }, "error");
  },

  pingFrame: () => frame({ type: "ping" }, "ping"),
};
