/**
 * The streamed half of the OpenAI Chat Completions codec. Decoding: `chat.completion.chunk`
 * frames become neutral events — text deltas open a text part, tool-call deltas are keyed by
 * their `index` (id and name arrive only in a call's first fragment; parallel calls may
 * interleave, so several tool parts can be open at once), `finish_reason` closes every open part,
 * usage may arrive in a final chunk with empty or null `choices` (or, from some compatible servers,
 * as a running figure on every chunk: the last one is reported just before `done`), `[DONE]` ends
 * the stream, and a
 * `{"error":…}` payload after the 200 is an error. A stream that stops before `[DONE]` is a
 * `stream_cut` error, never a success. Encoding writes the same frames back.
 */
import type { ChatStreamEvent, StopReason, StreamEncoder, Usage } from "../types.js";
import { type Json, openaiErrorBody, protocolError } from "./shared.js";
import { count, FormatStreamDecoder, midStreamError } from "./stream-decoder.js";

export const FINISH_TO_STOP: Record<string, StopReason> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "content_filter",
};

export const STOP_TO_FINISH: Record<StopReason, string> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  content_filter: "content_filter",
};

export class OpenAIChatStreamDecoder extends FormatStreamDecoder {
  private started = false;
  private finished = false;
  /** The latest usage seen: some servers repeat a running figure on every chunk; the last one counts. */
  private usage: Usage | undefined;
  private nextIndex = 0;
  private textIndex: number | undefined;
  /** OpenAI tool-call index → neutral part index, for calls still open. */
  private readonly tools = new Map<number, number>();

  constructor() {
    super("openai_chat");
  }

  protected override literal(data: string): ChatStreamEvent[] | undefined {
    if (data !== "[DONE]") return undefined;
    this.over = true;
    if (!this.finished) return [protocolError("the stream ended with [DONE] but without a finish_reason")];
    return this.usage ? [{ type: "usage", usage: this.usage }, { type: "done" }] : [{ type: "done" }];
  }

  protected decode(json: Json): ChatStreamEvent[] {
    if (json.error !== undefined && json.error !== null) return this.fail(inStreamError(json.error));
    const out: ChatStreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      out.push({
        type: "start",
        id: typeof json.id === "string" ? json.id : "",
        model: typeof json.model === "string" ? json.model : "",
      });
    }
    const choice = Array.isArray(json.choices) ? (json.choices as unknown[]).find(isChoiceZero) : undefined;
    if (choice) {
      const problem = this.choice(choice as Json, out);
      if (problem) return this.fail(problem, out);
    }
    if (json.usage && typeof json.usage === "object") {
      const u = json.usage as Json;
      this.usage = { input_tokens: count(u.prompt_tokens), output_tokens: count(u.completion_tokens) };
    }
    return out;
  }

  /** Applies one choice's delta; returns an error event when the chunk breaks the protocol. */
  private choice(choice: Json, out: ChatStreamEvent[]): ChatStreamEvent | undefined {
    const delta = (choice.delta && typeof choice.delta === "object" ? choice.delta : {}) as Json;
    const text =
      typeof delta.content === "string" && delta.content !== ""
        ? delta.content
        : typeof delta.refusal === "string"
          ? delta.refusal
          : "";
    if (text !== "") {
      if (this.textIndex === undefined) {
        this.textIndex = this.nextIndex++;
        out.push({ type: "part_start", index: this.textIndex, part: { type: "text" } });
      }
      out.push({ type: "text_delta", index: this.textIndex, text });
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const raw of delta.tool_calls as unknown[]) {
        if (!raw || typeof raw !== "object") return protocolError("a tool_calls delta is not an object");
        const call = raw as Json;
        const fn = (call.function && typeof call.function === "object" ? call.function : {}) as Json;
        const key =
          typeof call.index === "number"
            ? call.index
            : typeof call.id === "string"
              ? this.tools.size
              : this.tools.size - 1;
        let index = this.tools.get(key);
        if (index === undefined) {
          if (typeof call.id !== "string" || typeof fn.name !== "string") {
            return protocolError(`tool call ${key} starts without an id and a name`);
          }
          this.closeText(out);
          index = this.nextIndex++;
          this.tools.set(key, index);
          out.push({ type: "part_start", index, part: { type: "tool_call", id: call.id, name: fn.name } });
        }
        if (typeof fn.arguments === "string" && fn.arguments !== "") {
          out.push({ type: "tool_arguments_delta", index, arguments: fn.arguments });
        }
      }
    }
    if (typeof choice.finish_reason === "string") {
      const stop: StopReason | undefined = FINISH_TO_STOP[choice.finish_reason];
      if (!stop) return protocolError(`unknown finish_reason ${choice.finish_reason}`);
      this.closeText(out);
      for (const index of [...this.tools.values()].sort((a, b) => a - b))
        out.push({ type: "part_stop", index });
      this.tools.clear();
      this.finished = true;
      out.push({ type: "finish", stop_reason: stop });
    }
    return undefined;
  }

  private closeText(out: ChatStreamEvent[]): void {
    if (this.textIndex === undefined) return;
    out.push({ type: "part_stop", index: this.textIndex });
    this.textIndex = undefined;
  }
}

function isChoiceZero(c: unknown): boolean {
  return !!c && typeof c === "object" && ((c as Json).index === 0 || (c as Json).index === undefined);
}

function inStreamError(error: unknown): ChatStreamEvent {
  const e = (error && typeof error === "object" ? error : { message: String(error) }) as Json;
  const message = typeof e.message === "string" ? e.message : "the provider reported an error mid-stream";
  return midStreamError(
    typeof e.type === "string" ? e.type : typeof e.code === "string" ? e.code : "",
    message,
  );
}

export class OpenAIChatStreamEncoder implements StreamEncoder {
  private id = "chatcmpl-gateway";
  private model = "";
  private readonly created = Math.floor(Date.now() / 1000);
  /** Neutral part index → OpenAI tool-call index. */
  private readonly toolIndex = new Map<number, number>();

  constructor(private readonly includeUsage: boolean) {}

  push(event: ChatStreamEvent): string[] {
    switch (event.type) {
      case "start":
        this.id = event.id || this.id;
        this.model = event.model;
        this.prefix = undefined;
        return [this.chunk({ role: "assistant", content: "" })];
      case "part_start": {
        if (event.part.type !== "tool_call") return [];
        const k = this.toolIndex.size;
        this.toolIndex.set(event.index, k);
        return [
          this.chunk({
            tool_calls: [
              {
                index: k,
                id: event.part.id,
                type: "function",
                function: { name: event.part.name, arguments: "" },
              },
            ],
          }),
        ];
      }
      case "text_delta":
        // The hot path: only the text is serialised per event.
        return [
          `${this.head()}"choices":[{"index":0,"delta":{"content":${JSON.stringify(event.text)}},${this.tail}`,
        ];
      case "tool_arguments_delta":
        return [
          this.chunk({
            tool_calls: [
              { index: this.toolIndex.get(event.index) ?? 0, function: { arguments: event.arguments } },
            ],
          }),
        ];
      case "part_stop":
        return [];
      case "finish":
        return [this.chunk({}, STOP_TO_FINISH[event.stop_reason])];
      case "usage":
        if (!this.includeUsage) return [];
        return [
          `${this.head()}"choices":[],"usage":${JSON.stringify({
            prompt_tokens: event.usage.input_tokens,
            completion_tokens: event.usage.output_tokens,
            total_tokens: event.usage.input_tokens + event.usage.output_tokens,
          })}}\n\n`,
        ];
      case "done":
        return ["data: [DONE]\n\n"];
      case "error":
        return [data(openaiErrorBody(event.error))];
    }
  }

  /** `data: {"id":…,"object":…,"created":…,"model":…,` — the same for every chunk of the stream. */
  private prefix: string | undefined;

  private head(): string {
    this.prefix ??= `data: ${JSON.stringify({ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model }).slice(0, -1)},`;
    return this.prefix;
  }

  private get tail(): string {
    return `"logprobs":null,"finish_reason":null}]${this.includeUsage ? ',"usage":null' : ""}}\n\n`;
  }

  private chunk(delta: Json, finish: string | null = null): string {
    const choices = JSON.stringify([{ index: 0, delta, logprobs: null, finish_reason: finish }]);
    return `${this.head()}"choices":${choices}${this.includeUsage ? ',"usage":null' : ""}}\n\n`;
  }
}

/** One `data:` frame; JSON text never holds a raw line break, so one line suffices. */
function data(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}
