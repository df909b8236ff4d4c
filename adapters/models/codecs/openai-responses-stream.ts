/**
 * The streamed half of the OpenAI Responses codec. Every event is typed and numbered
 * (`sequence_number`, checked to increase). Decoding: `response.created` → start, an
 * `output_text` content part → a neutral text part, a `function_call` output item → a tool-call
 * part (its `call_id` is the neutral id; argument deltas are keyed by `output_index`, so parallel
 * calls may interleave), `response.completed` / `response.incomplete` → finish + usage + done,
 * `response.failed` and `error` → an error. There is no `[DONE]`: a stream that stops before its
 * terminal response event is a `stream_cut` error. Encoding writes the same events back.
 */
import type { ChatStreamEvent, SseEvent, StopReason, StreamEncoder, Usage } from "../types.js";
import { type Json, protocolError } from "./shared.js";
import { count, FormatStreamDecoder, midStreamError, str } from "./stream-decoder.js";

/** The stop reason of a finished response object. */
export function responseStop(response: Json, sawToolCall: boolean): StopReason {
  if (response.status === "incomplete") {
    const reason = (response.incomplete_details as Json | null | undefined)?.reason;
    return reason === "content_filter" ? "content_filter" : "max_tokens";
  }
  return sawToolCall ? "tool_use" : "end_turn";
}

export function responseUsage(u: unknown): Usage | undefined {
  if (!u || typeof u !== "object") return undefined;
  return { input_tokens: count((u as Json).input_tokens), output_tokens: count((u as Json).output_tokens) };
}

export class ResponsesStreamDecoder extends FormatStreamDecoder {
  private started = false;
  private lastSequence = -1;
  private nextIndex = 0;
  private sawToolCall = false;
  /** `output_index` of a function call → its neutral part. */
  private readonly calls = new Map<number, { index: number; args: boolean }>();
  /** `output_index:content_index` of a text part → its neutral index. */
  private readonly texts = new Map<string, number>();

  constructor() {
    super("openai_responses");
  }

  protected decode(json: Json, event: SseEvent): ChatStreamEvent[] {
    if (typeof json.sequence_number === "number") {
      if (json.sequence_number <= this.lastSequence) {
        return this.fail(protocolError(`sequence_number ${json.sequence_number} after ${this.lastSequence}`));
      }
      this.lastSequence = json.sequence_number;
    }
    const type = typeof json.type === "string" ? json.type : (event.event ?? "");
    if (!this.started && type !== "response.created" && type !== "error") {
      return this.fail(protocolError(`${type} before response.created`));
    }
    const outputIndex = typeof json.output_index === "number" ? json.output_index : -1;
    const textKey = `${outputIndex}:${typeof json.content_index === "number" ? json.content_index : 0}`;
    switch (type) {
      case "response.created": {
        const response = (json.response ?? {}) as Json;
        this.started = true;
        return [{ type: "start", id: str(response.id), model: str(response.model) }];
      }
      case "response.output_item.added": {
        const item = (json.item ?? {}) as Json;
        if (item.type !== "function_call") return [];
        const index = this.nextIndex++;
        this.sawToolCall = true;
        this.calls.set(outputIndex, { index, args: false });
        return [
          {
            type: "part_start",
            index,
            part: { type: "tool_call", id: str(item.call_id), name: str(item.name) },
          },
        ];
      }
      case "response.content_part.added": {
        const part = (json.part ?? {}) as Json;
        if (part.type !== "output_text" && part.type !== "refusal") return [];
        const index = this.nextIndex++;
        this.texts.set(textKey, index);
        return [{ type: "part_start", index, part: { type: "text" } }];
      }
      case "response.output_text.delta":
      case "response.refusal.delta": {
        const index = this.texts.get(textKey);
        if (index === undefined) return this.fail(protocolError(`${type} for an unknown content part`));
        const text = str(json.delta);
        return text === "" ? [] : [{ type: "text_delta", index, text }];
      }
      case "response.content_part.done": {
        const index = this.texts.get(textKey);
        if (index === undefined) return [];
        this.texts.delete(textKey);
        return [{ type: "part_stop", index }];
      }
      case "response.function_call_arguments.delta": {
        const call = this.calls.get(outputIndex);
        if (!call) return this.fail(protocolError("function_call_arguments.delta for an unknown call"));
        const delta = str(json.delta);
        if (delta === "") return [];
        call.args = true;
        return [{ type: "tool_arguments_delta", index: call.index, arguments: delta }];
      }
      case "response.output_item.done": {
        const call = this.calls.get(outputIndex);
        if (!call) return [];
        this.calls.delete(outputIndex);
        const out: ChatStreamEvent[] = [];
        if (!call.args) {
          const args = str(((json.item ?? {}) as Json).arguments);
          out.push({ type: "tool_arguments_delta", index: call.index, arguments: args === "" ? "{}" : args });
        }
        out.push({ type: "part_stop", index: call.index });
        return out;
      }
      case "response.completed":
      case "response.incomplete": {
        const response = (json.response ?? {}) as Json;
        const out: ChatStreamEvent[] = [];
        // Parts a server left open are closed before the finish, in order.
        const open = [...this.texts.values(), ...[...this.calls.values()].map((c) => c.index)].sort(
          (a, b) => a - b,
        );
        for (const index of open) out.push({ type: "part_stop", index });
        out.push({ type: "finish", stop_reason: responseStop(response, this.sawToolCall) });
        const usage = responseUsage(response.usage);
        if (usage) out.push({ type: "usage", usage });
        out.push({ type: "done" });
        this.over = true;
        return out;
      }
      case "response.failed": {
        const error = (((json.response ?? {}) as Json).error ?? {}) as Json;
        return this.fail({
          type: "error",
          error: { code: "server_error", message: str(error.message) || "the response failed", status: 502 },
        });
      }
      case "error":
        return this.fail(
          midStreamError(str(json.code), str(json.message) || "the provider reported an error mid-stream"),
        );
      default:
        return [];
    }
  }
}

type OpenItem =
  | { kind: "text"; outputIndex: number; itemId: string; text: string }
  | { kind: "call"; outputIndex: number; itemId: string; callId: string; name: string; args: string };

export class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private id = "resp_gateway";
  private model = "";
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly items = new Map<number, OpenItem>();
  private readonly output: Json[] = [];
  private nextOutput = 0;
  private stop: StopReason = "end_turn";
  private usage: Usage | undefined;

  push(event: ChatStreamEvent): string[] {
    switch (event.type) {
      case "start":
        this.id = event.id || this.id;
        this.model = event.model;
        return [
          this.ev("response.created", { response: this.response("in_progress") }),
          this.ev("response.in_progress", { response: this.response("in_progress") }),
        ];
      case "part_start": {
        const outputIndex = this.nextOutput++;
        if (event.part.type === "text") {
          const item: OpenItem = {
            kind: "text",
            outputIndex,
            itemId: `msg_${this.id}_${outputIndex}`,
            text: "",
          };
          this.items.set(event.index, item);
          return [
            this.ev("response.output_item.added", {
              output_index: outputIndex,
              item: {
                type: "message",
                id: item.itemId,
                status: "in_progress",
                role: "assistant",
                content: [],
              },
            }),
            this.ev("response.content_part.added", {
              item_id: item.itemId,
              output_index: outputIndex,
              content_index: 0,
              part: { type: "output_text", text: "", annotations: [] },
            }),
          ];
        }
        const item: OpenItem = {
          kind: "call",
          outputIndex,
          itemId: `fc_${this.id}_${outputIndex}`,
          callId: event.part.id,
          name: event.part.name,
          args: "",
        };
        this.items.set(event.index, item);
        return [
          this.ev("response.output_item.added", {
            output_index: outputIndex,
            item: { ...callItem(item), status: "in_progress" },
          }),
        ];
      }
      case "text_delta": {
        const item = this.items.get(event.index);
        if (item?.kind !== "text") return [];
        item.text += event.text;
        return [
          this.ev("response.output_text.delta", {
            item_id: item.itemId,
            output_index: item.outputIndex,
            content_index: 0,
            delta: event.text,
          }),
        ];
      }
      case "tool_arguments_delta": {
        const item = this.items.get(event.index);
        if (item?.kind !== "call") return [];
        item.args += event.arguments;
        return [
          this.ev("response.function_call_arguments.delta", {
            item_id: item.itemId,
            output_index: item.outputIndex,
            delta: event.arguments,
          }),
        ];
      }
      case "part_stop":
        return this.close(event.index);
      case "finish":
        this.stop = event.stop_reason;
        return [];
      case "usage":
        this.usage = event.usage;
        return [];
      case "done": {
        const out = [...this.items.keys()].flatMap((index) => this.close(index));
        const status =
          this.stop === "max_tokens" || this.stop === "content_filter" ? "incomplete" : "completed";
        out.push(this.ev(`response.${status}`, { response: this.response(status) }));
        return out;
      }
      case "error":
        return [
          this.ev("error", {
            code: event.error.code,
            message: event.error.message,
            param: null,
          }),
        ];
    }
  }

  private close(index: number): string[] {
    const item = this.items.get(index);
    if (!item) return [];
    this.items.delete(index);
    if (item.kind === "call") {
      const done = callItem(item);
      this.output[item.outputIndex] = done;
      return [
        this.ev("response.function_call_arguments.done", {
          item_id: item.itemId,
          output_index: item.outputIndex,
          arguments: item.args,
        }),
        this.ev("response.output_item.done", { output_index: item.outputIndex, item: done }),
      ];
    }
    const part = { type: "output_text", text: item.text, annotations: [] };
    const done = {
      type: "message",
      id: item.itemId,
      status: "completed",
      role: "assistant",
      content: [part],
    };
    this.output[item.outputIndex] = done;
    const at = { item_id: item.itemId, output_index: item.outputIndex, content_index: 0 };
    return [
      this.ev("response.output_text.done", { ...at, text: item.text }),
      this.ev("response.content_part.done", { ...at, part }),
      this.ev("response.output_item.done", { output_index: item.outputIndex, item: done }),
    ];
  }

  private response(status: string): Json {
    return {
      id: this.id,
      object: "response",
      created_at: this.created,
      status,
      model: this.model,
      output: status === "in_progress" ? [] : this.output.filter(Boolean),
      error: null,
      incomplete_details:
        status === "incomplete"
          ? { reason: this.stop === "content_filter" ? "content_filter" : "max_output_tokens" }
          : null,
      usage:
        status === "in_progress" || !this.usage
          ? null
          : {
              input_tokens: this.usage.input_tokens,
              output_tokens: this.usage.output_tokens,
              total_tokens: this.usage.input_tokens + this.usage.output_tokens,
            },
    };
  }

  private ev(type: string, data: Json): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...data })}\n\n`;
  }
}

function callItem(item: Extract<OpenItem, { kind: "call" }>): Json {
  return {
    type: "function_call",
    id: item.itemId,
    call_id: item.callId,
    name: item.name,
    arguments: item.args,
    status: "completed",
  };
}
