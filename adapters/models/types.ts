/**
 * The gateway's own, provider-neutral shape of a model request, its answer and its stream. Every
 * wire format (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages; OpenAI-compatible
 * local servers speak the first) has a codec that turns its requests into a `ChatRequest` and a
 * `ChatResponse` / `ChatStreamEvent` sequence back into its own bytes — in both directions, so
 * the same codecs serve the inbound API (client → gateway) and the outbound adapters (gateway →
 * provider). Routing, redaction and policy only ever see these types. A feature a target cannot
 * carry is refused with `UnsupportedFeatureError`, never dropped.
 */

/** The wire formats the gateway speaks. */
export type WireFormat = "openai_chat" | "openai_responses" | "anthropic_messages";

/** One piece of message content. */
export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image"; url?: string; data?: string; media_type?: string }
  | { type: "tool_call"; id: string; name: string; arguments: string }
  | { type: "tool_result"; tool_call_id: string; content: string; is_error?: boolean };

export interface ChatMessage {
  role: "user" | "assistant" | "tool";
  content: ContentPart[];
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  /** OpenAI strict schema adherence; refused by formats that cannot promise it. */
  strict?: boolean;
}

export type ToolChoice = "auto" | "none" | "required" | { name: string };

export interface ChatRequest {
  /** The model name the caller asked for (an alias the router resolves). */
  model: string;
  /** System / developer instructions, in order. */
  system: string[];
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  stream: boolean;
  /**
   * The caller asked for a usage report at the end of a stream (OpenAI Chat
   * `stream_options.include_usage`; Anthropic and Responses streams always carry usage).
   */
  include_usage?: boolean;
  /** Caller-supplied end-user id / metadata, passed on where the target format has a place for it. */
  user?: string;
  metadata?: Record<string, string>;
  /**
   * Request fields the codec recognised but the neutral shape does not model (e.g. OpenAI
   * `response_format`, Anthropic `thinking`): kept so that a target of the same format receives
   * them unchanged and a target of another format refuses them (`UnsupportedFeatureError`).
   */
  passthrough?: { format: WireFormat; fields: Record<string, unknown> };
}

export type StopReason = "end_turn" | "max_tokens" | "tool_use" | "stop_sequence" | "content_filter";

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export interface ChatResponse {
  id: string;
  /** The model that answered (the provider's name for it). */
  model: string;
  content: ContentPart[];
  stop_reason: StopReason;
  usage?: Usage;
}

/**
 * One event of a streamed answer. `index` numbers the content parts of the answer in order; a
 * text part and a tool call never share an index. Codecs producing a stream emit, in order:
 * `start`, then per part `part_start`, deltas, `part_stop`, then `finish`, `usage` when known,
 * and `done` — or `error` at any point, after which nothing follows.
 */
export type ChatStreamEvent =
  | { type: "start"; id: string; model: string }
  | {
      type: "part_start";
      index: number;
      part: { type: "text" } | { type: "tool_call"; id: string; name: string };
    }
  | { type: "text_delta"; index: number; text: string }
  | { type: "tool_arguments_delta"; index: number; arguments: string }
  | { type: "part_stop"; index: number }
  | { type: "finish"; stop_reason: StopReason }
  | { type: "usage"; usage: Usage }
  | { type: "done" }
  | { type: "error"; error: ModelErrorBody };

/** An error as the client will see it: a stable code, a message and the HTTP status it maps to. */
export interface ModelErrorBody {
  code: string;
  message: string;
  status: number;
}

/** A codec for one wire format: both directions, both non-streamed and streamed. */
export interface WireCodec {
  format: WireFormat;
  /** Client or provider request body → neutral request; throws `ModelRequestError` on bad input. */
  decodeRequest(body: unknown): ChatRequest;
  /** Neutral request → this format's request body (for the given provider model name). */
  encodeRequest(request: ChatRequest, model: string): Record<string, unknown>;
  decodeResponse(body: unknown): ChatResponse;
  encodeResponse(response: ChatResponse): Record<string, unknown>;
  /** A stateful decoder of this format's SSE events (one per stream). */
  streamDecoder(): StreamDecoder;
  /**
   * A stateful encoder into this format's SSE frames (one per stream). Pass the caller's decoded
   * request so format options such as OpenAI's `stream_options.include_usage` are honoured.
   */
  streamEncoder(request?: ChatRequest): StreamEncoder;
  /** This format's error body for an error (non-streamed, or as an in-stream error frame). */
  encodeError(error: ModelErrorBody): Record<string, unknown>;
}

/** One server-sent event as parsed from the wire. */
export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
  retry?: number;
}

export interface StreamDecoder {
  /** Feed one parsed SSE event; returns the neutral events it completes (possibly none). */
  push(event: SseEvent): ChatStreamEvent[];
  /** The stream ended; returns trailing events, or an `error` event when it ended too early. */
  end(): ChatStreamEvent[];
}

export interface StreamEncoder {
  /** Neutral event → zero or more complete SSE frames of this format (text ready to write). */
  push(event: ChatStreamEvent): string[];
}

/** Where one attempt goes: resolved from a `ProviderConfig` and a route target. */
export interface ProviderTarget {
  provider: import("../../contracts/index.js").ProviderConfig;
  /** The provider's own model name. */
  model: string;
  /** The resolved credential (never logged), absent for providers that need none. */
  credential?: string;
}

export interface CallOptions {
  signal: AbortSignal;
}

/** An outbound adapter: one per provider, on an undici pool. */
export interface ProviderAdapter {
  readonly target: Pick<ProviderTarget, "provider">;
  complete(request: ChatRequest, target: ProviderTarget, options: CallOptions): Promise<ChatResponse>;
  /** The neutral stream; failures before the first event reject the first `next()`. */
  stream(request: ChatRequest, target: ProviderTarget, options: CallOptions): AsyncIterable<ChatStreamEvent>;
  close(): Promise<void>;
}
