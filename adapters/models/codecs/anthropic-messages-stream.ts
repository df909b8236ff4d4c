/**
 * The streamed half of the Anthropic Messages codec. Decoding: `message_start` → start, each
 * `content_block_*` of a text or tool_use block → a neutral part (thinking and server-tool blocks
 * are not carried), `message_delta` → finish + usage, `message_stop` → done; `ping` is ignored
 * and an `error` event — which can arrive after HTTP 200 — ends the stream with an error. A stream
 * that stops before `message_stop` is a `stream_cut` error. Encoding must write blocks one after
 * another, so parts that arrive interleaved (parallel OpenAI tool calls) are held back until the
 * open block closes.
 */
import type {
  ChatStreamEvent,
  ModelErrorBody,
  SseEvent,
  StopReason,
  StreamEncoder,
  Usage,
} from "../types.js";
import { type Json, protocolError } from "./shared.js";
import { count, FormatStreamDecoder, str } from "./stream-decoder.js";

export const ANTHROPIC_STOP: Record<string, StopReason> = {
  end_turn: "end_turn",
  max_tokens: "max_tokens",
  stop_sequence: "stop_sequence",
  tool_use: "tool_use",
  refusal: "content_filter",
  // A long-running server-tool turn paused; the client resumes it like a finished turn.
  pause_turn: "end_turn",
  model_context_window_exceeded: "max_tokens",
};

export const STOP_TO_ANTHROPIC: Record<StopReason, string> = {
  end_turn: "end_turn",
  max_tokens: "max_tokens",
  stop_sequence: "stop_sequence",
  tool_use: "tool_use",
  content_filter: "refusal",
};

export function anthropicErrorType(error: ModelErrorBody): string {
  if (error.status === 429) return "rate_limit_error";
  if (error.status === 401) return "authentication_error";
  if (error.status === 403) return "permission_error";
  if (error.status === 404) return "not_found_error";
  if (error.status === 529 || error.status === 503) return "overloaded_error";
  return error.status >= 500 ? "api_error" : "invalid_request_error";
}

/** Anthropic counts cache reads and writes apart from `input_tokens`; the neutral figure is their sum. */
export function anthropicUsage(u: Json): Usage {
  return {
    input_tokens:
      count(u.input_tokens) + count(u.cache_creation_input_tokens) + count(u.cache_read_input_tokens),
    output_tokens: count(u.output_tokens),
  };
}

export class AnthropicStreamDecoder extends FormatStreamDecoder {
  private started = false;
  private finished = false;
  private nextIndex = 0;
  private inputTokens = 0;
  /** Anthropic block index → neutral part, for blocks that are carried. */
  private readonly blocks = new Map<number, { index: number; tool: boolean; args: boolean }>();
  /** Blocks not carried (thinking, server tools): their deltas are skipped. */
  private readonly skipped = new Set<number>();

  constructor() {
    super("anthropic_messages");
  }

  protected decode(json: Json, event: SseEvent): ChatStreamEvent[] {
    const type = typeof json.type === "string" ? json.type : event.event;
    switch (type) {
      case "ping":
        return [];
      case "error":
        return this.fail(inStreamError(json.error));
      case "message_start": {
        const message = (json.message ?? {}) as Json;
        this.started = true;
        if (message.usage && typeof message.usage === "object")
          this.inputTokens = anthropicUsage(message.usage as Json).input_tokens;
        return [{ type: "start", id: str(message.id), model: str(message.model) }];
      }
      case "content_block_start":
        return this.blockStart(json);
      case "content_block_delta":
        return this.blockDelta(json);
      case "content_block_stop": {
        const block = this.blocks.get(num(json.index));
        if (!block)
          return this.skipped.has(num(json.index))
            ? []
            : this.fail(protocolError("content_block_stop for an unknown block"));
        this.blocks.delete(num(json.index));
        const out: ChatStreamEvent[] = [];
        // A tool call without arguments still carries an (empty) arguments object.
        if (block.tool && !block.args)
          out.push({ type: "tool_arguments_delta", index: block.index, arguments: "{}" });
        out.push({ type: "part_stop", index: block.index });
        return out;
      }
      case "message_delta": {
        const delta = (json.delta ?? {}) as Json;
        const out: ChatStreamEvent[] = [];
        if (typeof delta.stop_reason === "string") {
          const stop = ANTHROPIC_STOP[delta.stop_reason];
          if (!stop) return this.fail(protocolError(`unknown stop_reason ${delta.stop_reason}`));
          this.finished = true;
          out.push({ type: "finish", stop_reason: stop });
        }
        if (json.usage && typeof json.usage === "object") {
          const u = anthropicUsage(json.usage as Json);
          out.push({
            type: "usage",
            usage: {
              input_tokens: Math.max(u.input_tokens, this.inputTokens),
              output_tokens: u.output_tokens,
            },
          });
        }
        return out;
      }
      case "message_stop":
        this.over = true;
        if (!this.started || !this.finished)
          return [protocolError("message_stop before message_start or a stop_reason")];
        return [{ type: "done" }];
      default:
        // New event types may be added to the API; they carry nothing the neutral stream models.
        return [];
    }
  }

  private blockStart(json: Json): ChatStreamEvent[] {
    const at = num(json.index);
    const block = (json.content_block ?? {}) as Json;
    if (!this.started) return this.fail(protocolError("content_block_start before message_start"));
    if (block.type === "text") {
      const index = this.nextIndex++;
      this.blocks.set(at, { index, tool: false, args: false });
      const out: ChatStreamEvent[] = [{ type: "part_start", index, part: { type: "text" } }];
      if (typeof block.text === "string" && block.text !== "")
        out.push({ type: "text_delta", index, text: block.text });
      return out;
    }
    if (block.type === "tool_use") {
      const index = this.nextIndex++;
      const input =
        block.input && typeof block.input === "object" && Object.keys(block.input).length > 0
          ? JSON.stringify(block.input)
          : "";
      this.blocks.set(at, { index, tool: true, args: input !== "" });
      const out: ChatStreamEvent[] = [
        { type: "part_start", index, part: { type: "tool_call", id: str(block.id), name: str(block.name) } },
      ];
      if (input !== "") out.push({ type: "tool_arguments_delta", index, arguments: input });
      return out;
    }
    this.skipped.add(at);
    return [];
  }

  private blockDelta(json: Json): ChatStreamEvent[] {
    const at = num(json.index);
    const block = this.blocks.get(at);
    if (!block)
      return this.skipped.has(at) ? [] : this.fail(protocolError("content_block_delta for an unknown block"));
    const delta = (json.delta ?? {}) as Json;
    if (delta.type === "text_delta" && typeof delta.text === "string" && delta.text !== "") {
      return [{ type: "text_delta", index: block.index, text: delta.text }];
    }
    if (
      delta.type === "input_json_delta" &&
      typeof delta.partial_json === "string" &&
      delta.partial_json !== ""
    ) {
      block.args = true;
      return [{ type: "tool_arguments_delta", index: block.index, arguments: delta.partial_json }];
    }
    return [];
  }
}

function num(v: unknown): number {
  return typeof v === "number" ? v : -1;
}

function inStreamError(error: unknown): ChatStreamEvent {
  const e = (error && typeof error === "object" ? error : {}) as Json;
  const message = typeof e.message === "string" ? e.message : "the provider reported an error mid-stream";
  if (e.type === "rate_limit_error")
    return { type: "error", error: { code: "rate_limited", message, status: 429 } };
  if (e.type === "invalid_request_error")
    return { type: "error", error: { code: "client_error", message, status: 400 } };
  return { type: "error", error: { code: "server_error", message, status: 502 } };
}

interface HeldPart {
  index: number;
  start: Json;
  deltas: Json[];
  stopped: boolean;
}

export class AnthropicStreamEncoder implements StreamEncoder {
  private block = 0;
  /** The neutral part whose block is open, with its Anthropic block index. */
  private open: { index: number; block: number } | undefined;
  /** Parts started while another block was open, in start order. */
  private readonly held: HeldPart[] = [];
  private stop: StopReason = "end_turn";
  private usage: Usage | undefined;

  push(event: ChatStreamEvent): string[] {
    switch (event.type) {
      case "start":
        return [
          frame("message_start", {
            type: "message_start",
            message: {
              id: event.id,
              type: "message",
              role: "assistant",
              model: event.model,
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: 0, output_tokens: 0 },
            },
          }),
        ];
      case "part_start": {
        const start =
          event.part.type === "text"
            ? { type: "text", text: "" }
            : { type: "tool_use", id: event.part.id, name: event.part.name, input: {} };
        if (this.open) {
          this.held.push({ index: event.index, start, deltas: [], stopped: false });
          return [];
        }
        return [this.openBlock(event.index, start)];
      }
      case "text_delta":
        return this.delta(event.index, { type: "text_delta", text: event.text });
      case "tool_arguments_delta":
        return this.delta(event.index, { type: "input_json_delta", partial_json: event.arguments });
      case "part_stop": {
        if (this.open?.index !== event.index) {
          const held = this.held.find((h) => h.index === event.index);
          if (held) held.stopped = true;
          return [];
        }
        return [this.closeBlock(), ...this.release()];
      }
      case "finish":
        this.stop = event.stop_reason;
        return [];
      case "usage":
        this.usage = event.usage;
        return [];
      case "done": {
        const out: string[] = [];
        while (this.open || this.held.length > 0) {
          if (this.open) out.push(this.closeBlock());
          out.push(...this.release(true));
        }
        out.push(
          frame("message_delta", {
            type: "message_delta",
            delta: { stop_reason: STOP_TO_ANTHROPIC[this.stop], stop_sequence: null },
            usage: {
              input_tokens: this.usage?.input_tokens ?? 0,
              output_tokens: this.usage?.output_tokens ?? 0,
            },
          }),
        );
        out.push(frame("message_stop", { type: "message_stop" }));
        return out;
      }
      case "error":
        return [
          frame("error", {
            type: "error",
            error: { type: anthropicErrorType(event.error), message: event.error.message },
          }),
        ];
    }
  }

  private delta(index: number, delta: Json): string[] {
    if (this.open?.index === index) {
      return [frame("content_block_delta", { type: "content_block_delta", index: this.open.block, delta })];
    }
    this.held.find((h) => h.index === index)?.deltas.push(delta);
    return [];
  }

  private openBlock(index: number, start: Json): string {
    this.open = { index, block: this.block++ };
    return frame("content_block_start", {
      type: "content_block_start",
      index: this.open.block,
      content_block: start,
    });
  }

  private closeBlock(): string {
    const block = this.open?.block ?? 0;
    this.open = undefined;
    return frame("content_block_stop", { type: "content_block_stop", index: block });
  }

  /** Writes held parts in order until one is still streaming (or, with `all`, only the next one). */
  private release(all = false): string[] {
    const out: string[] = [];
    while (!this.open && this.held.length > 0) {
      const next = this.held.shift() as HeldPart;
      out.push(this.openBlock(next.index, next.start));
      for (const d of next.deltas) out.push(this.delta(next.index, d)[0] as string);
      if (next.stopped) out.push(this.closeBlock());
      else if (all) out.push(this.closeBlock());
    }
    return out;
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
