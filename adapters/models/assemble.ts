/**
 * Assembles a neutral event stream into the `ChatResponse` it describes, checking the stream's
 * grammar on the way (`start` first; deltas only for a started, unstopped part; each part
 * stopped once; `finish` only when every part is closed; nothing after `done` or `error`). The
 * router uses it to account a streamed answer (usage, tool calls) and the tests use it to compare
 * streams that differ only in event order allowed by the grammar.
 */
import { ProviderError } from "./errors.js";
import type {
  ChatResponse,
  ChatStreamEvent,
  ContentPart,
  ModelErrorBody,
  StopReason,
  Usage,
} from "./types.js";

export class StreamAssembler {
  private id = "";
  private model = "";
  private started = false;
  private ended: "done" | "error" | undefined;
  private error: ModelErrorBody | undefined;
  private stop: StopReason | undefined;
  private usage: Usage | undefined;
  private readonly parts = new Map<number, { part: ContentPart; open: boolean }>();

  /** Feeds one event; throws a `protocol_error` `ProviderError` when it breaks the grammar. */
  push(event: ChatStreamEvent): void {
    if (this.ended) this.violation(`${event.type} after ${this.ended}`);
    if (event.type === "error") {
      this.ended = "error";
      this.error = event.error;
      return;
    }
    if (!this.started && event.type !== "start") this.violation(`${event.type} before start`);
    switch (event.type) {
      case "start":
        if (this.started) this.violation("a second start");
        this.started = true;
        this.id = event.id;
        this.model = event.model;
        return;
      case "part_start":
        if (this.parts.has(event.index)) this.violation(`part ${event.index} started twice`);
        if (this.stop) this.violation("part_start after finish");
        this.parts.set(event.index, {
          part:
            event.part.type === "text"
              ? { type: "text", text: "" }
              : { type: "tool_call", id: event.part.id, name: event.part.name, arguments: "" },
          open: true,
        });
        return;
      case "text_delta": {
        const part = this.open(event.index).part;
        if (part.type !== "text") this.violation(`text_delta for tool part ${event.index}`);
        part.text += event.text;
        return;
      }
      case "tool_arguments_delta": {
        const part = this.open(event.index).part;
        if (part.type !== "tool_call") this.violation(`tool_arguments_delta for text part ${event.index}`);
        part.arguments += event.arguments;
        return;
      }
      case "part_stop":
        this.open(event.index).open = false;
        return;
      case "finish":
        if (this.stop) this.violation("a second finish");
        for (const [index, p] of this.parts) if (p.open) this.violation(`finish while part ${index} is open`);
        this.stop = event.stop_reason;
        return;
      case "usage":
        this.usage = event.usage;
        return;
      case "done":
        if (!this.stop) this.violation("done without finish");
        this.ended = "done";
        return;
    }
  }

  /** Whether the stream ended with `done` or `error` (else it is still running, or was cut). */
  get outcome(): "done" | "error" | undefined {
    return this.ended;
  }

  get failure(): ModelErrorBody | undefined {
    return this.error;
  }

  /** The answer so far: its parts in index order, the stop reason and usage when known. */
  snapshot(): Partial<ChatResponse> & { content: ContentPart[] } {
    const content = [...this.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p.part);
    const out: Partial<ChatResponse> & { content: ContentPart[] } = {
      id: this.id,
      model: this.model,
      content,
    };
    if (this.stop) out.stop_reason = this.stop;
    if (this.usage) out.usage = this.usage;
    return out;
  }

  /** The finished answer; throws when the stream did not end with `done`. */
  result(): ChatResponse {
    if (this.ended !== "done" || !this.stop) {
      throw new ProviderError(
        this.error ? "server_error" : "stream_cut",
        this.error?.message ?? "the stream did not finish",
      );
    }
    return { ...this.snapshot(), id: this.id, model: this.model, stop_reason: this.stop };
  }

  private open(index: number): { part: ContentPart; open: boolean } {
    const p = this.parts.get(index);
    if (!p) this.violation(`delta or stop for unknown part ${index}`);
    if (!p.open) this.violation(`part ${index} used after part_stop`);
    return p;
  }

  private violation(message: string): never {
    throw new ProviderError("protocol_error", `neutral stream: ${message}`);
  }
}

/** Assembles a whole event list (tests, buffered paths). */
export function assembleStream(events: Iterable<ChatStreamEvent>): StreamAssembler {
  const a = new StreamAssembler();
  for (const e of events) a.push(e);
  return a;
}
