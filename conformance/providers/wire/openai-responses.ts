/**
 * OpenAI Responses as a fake provider writes it: `response` objects whose `output` holds a
 * `message` item (with `output_text`) and `function_call` items, and streams of typed events,
 * each with a `sequence_number` and its type as the SSE event name — `response.created`,
 * `response.output_item.added`, `response.output_text.delta`,
 * `response.function_call_arguments.delta`, `response.output_item.done`, then
 * `response.completed` or `response.incomplete` (max tokens, content filter); no `[DONE]`. An
 * in-stream failure is `response.failed`.
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

const CREATED = 1_767_225_600;

function textFromInput(input: unknown): string {
  if (typeof input === "string") return input;
  if (!Array.isArray(input)) return "";
  const users = input.filter(
    (i) => i && typeof i === "object" && (i as { role?: unknown }).role === "user",
  ) as Record<string, unknown>[];
  const last = users[users.length - 1];
  return last ? textOf(last.content) : "";
}

function callId(answer: FakeAnswer, i: number, serial: number): string {
  return answer.toolCalls?.[i]?.id ?? `call_${serial}_${i}`;
}

function outputItems(answer: FakeAnswer, ctx: WireContext) {
  const items: Record<string, unknown>[] = [];
  if (answer.text) {
    items.push({
      type: "message",
      id: `msg_${ctx.serial}`,
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: answer.text, annotations: [] }],
    });
  }
  (answer.toolCalls ?? []).forEach((c, i) => {
    items.push({
      type: "function_call",
      id: `fc_${ctx.serial}_${i}`,
      call_id: callId(answer, i, ctx.serial),
      name: c.name,
      arguments: c.arguments,
      status: "completed",
    });
  });
  return items;
}

function responseObject(answer: FakeAnswer, ctx: WireContext, status: string, output: unknown[]) {
  const usage = usageOf(answer, ctx.body);
  const stop = stopOf(answer);
  const incomplete = stop === "max_tokens" || stop === "content_filter";
  return {
    id: `resp_${ctx.serial}`,
    object: "response",
    created_at: CREATED,
    status,
    model: ctx.model,
    output,
    error: null,
    incomplete_details:
      status === "incomplete" && incomplete
        ? { reason: stop === "max_tokens" ? "max_output_tokens" : "content_filter" }
        : null,
    usage:
      status === "in_progress"
        ? null
        : {
            input_tokens: usage.input,
            output_tokens: usage.output,
            total_tokens: usage.input + usage.output,
          },
  };
}

function finalStatus(answer: FakeAnswer): string {
  const stop = stopOf(answer);
  return stop === "max_tokens" || stop === "content_filter" ? "incomplete" : "completed";
}

export const openaiResponsesWire: FakeWire = {
  path: "/v1/responses",

  isStream: (body) => body.stream === true,

  lastUserText: (body) => textFromInput(body.input),

  json(answer, ctx) {
    return responseObject(answer, ctx, finalStatus(answer), outputItems(answer, ctx));
  },

  frames(answer, ctx, shape) {
    let seq = 0;
    const ev = (type: string, data: Record<string, unknown>) =>
      frame({ type, sequence_number: seq++, ...data }, type);
    const out = [
      ev("response.created", { response: responseObject(answer, ctx, "in_progress", []) }),
      ev("response.in_progress", { response: responseObject(answer, ctx, "in_progress", []) }),
    ];
    const items = outputItems(answer, ctx);
    let outputIndex = 0;
    if (answer.text) {
      const item = items[0] as Record<string, unknown>;
      const itemId = item.id;
      out.push(
        ev("response.output_item.added", {
          output_index: 0,
          item: { ...item, status: "in_progress", content: [] },
        }),
      );
      const part = { type: "output_text", text: "", annotations: [] };
      out.push(
        ev("response.content_part.added", { item_id: itemId, output_index: 0, content_index: 0, part }),
      );
      for (const delta of pieces(answer.text, shape.textDeltaChars ?? 3)) {
        out.push(
          ev("response.output_text.delta", { item_id: itemId, output_index: 0, content_index: 0, delta }),
        );
      }
      out.push(
        ev("response.output_text.done", {
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          text: answer.text,
        }),
      );
      out.push(
        ev("response.content_part.done", {
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          part: { ...part, text: answer.text },
        }),
      );
      out.push(ev("response.output_item.done", { output_index: 0, item }));
      outputIndex = 1;
    }
    const calls = items.slice(outputIndex);
    const added = calls.map((item, k) =>
      ev("response.output_item.added", {
        output_index: outputIndex + k,
        item: { ...item, arguments: "", status: "in_progress" },
      }),
    );
    const deltas = calls.map((item, k) =>
      pieces(String(item.arguments), 4).map((delta) => ({
        item_id: item.id,
        output_index: outputIndex + k,
        delta,
      })),
    );
    const finish = (item: Record<string, unknown>, k: number) => [
      ev("response.function_call_arguments.done", {
        item_id: item.id,
        output_index: outputIndex + k,
        arguments: item.arguments,
      }),
      ev("response.output_item.done", { output_index: outputIndex + k, item }),
    ];
    if (shape.interleave) {
      out.push(...added);
      const longest = Math.max(0, ...deltas.map((d) => d.length));
      for (let j = 0; j < longest; j++) {
        for (const d of deltas) {
          const one = d[j];
          if (one) out.push(ev("response.function_call_arguments.delta", one));
        }
      }
      calls.forEach((item, k) => {
        out.push(...finish(item, k));
      });
    } else {
      calls.forEach((item, k) => {
        out.push(added[k] as string);
        for (const one of deltas[k] ?? []) out.push(ev("response.function_call_arguments.delta", one));
        out.push(...finish(item, k));
      });
    }
    const status = finalStatus(answer);
    out.push(ev(`response.${status}`, { response: responseObject(answer, ctx, status, items) }));
    return out;
  },

  errorBody(status, message) {
    const type =
      status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
    return { error: { message, type, param: null, code: null } };
  },

  errorFrame(message, ctx) {
    return frame(
      {
        type: "response.failed",
        sequence_number: 9999,
        response: {
          id: `resp_${ctx.serial}`,
          object: "response",
          status: "failed",
          model: ctx.model,
          output: [],
          error: { code: "server_error", message },
          incomplete_details: null,
          usage: null,
        },
      },
      "response.failed",
    );
  },

  pingFrame: () => ": keep-alive\n\n",
};
