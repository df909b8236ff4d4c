/**
 * Reading a caller's request options the way every format does: the head (`model`, the
 * format's system prompts and messages, `stream`), then the generation options in one fixed
 * order — `parallel_tool_calls`, the output limit, `temperature`, `top_p`, stop sequences, the
 * format's own extras, `user` and `metadata` — and last the passthrough of unmodelled fields.
 * The order is the order of the checks: a request with several bad fields is refused for the
 * first of them in this order.
 */
import { UnsupportedFeatureError } from "../errors.js";
import type { ChatMessage, ChatRequest, ToolChoice, WireFormat } from "../types.js";
import { collectPassthrough, type Json, type Reader } from "./shared.js";

/** `model`, then the format's system prompts and messages, then `stream`; a model name is required. */
export function decodeRequestHead(
  r: Reader,
  b: Json,
  conversation: () => { system: string[]; messages: ChatMessage[] },
): ChatRequest {
  const model = r.string(b.model, "model");
  const { system, messages } = conversation();
  const request: ChatRequest = { model, system, messages, stream: r.optBool(b.stream, "stream") ?? false };
  if (request.model === "") r.fail("model", "a non-empty model name");
  return request;
}

/**
 * The OpenAI formats' `tool_choice`: `auto`, `none`, `required`, or a `function` object whose
 * name `nameOf` reads (the formats nest it differently); other types are refused.
 */
export function decodeOpenAIToolChoice(
  r: Reader,
  value: unknown,
  nameOf: (choice: Json) => string,
): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === "auto" || value === "none" || value === "required") return value;
  const o = r.object(value, "tool_choice");
  if (o.type !== "function") throw new UnsupportedFeatureError(`tool_choice type ${String(o.type)}`, "any");
  return { name: nameOf(o) };
}

export interface RequestOptionFields {
  format: WireFormat;
  /** The request fields the neutral shape models; the rest are passthrough. */
  modelled: ReadonlySet<string>;
  /** Unmodelled fields whose given value asks for nothing (e.g. `n: 1`). */
  noops?: Readonly<Record<string, unknown>>;
  /** The format has a top-level `parallel_tool_calls`. */
  parallelToolCalls?: boolean;
  /** The output limit's field names, the first one present wins; none when the format reads it itself. */
  maxTokens?: readonly string[];
  /** The top of the format's temperature range. */
  temperatureMax: number;
  /** The stop sequences' field name, when the format has them. */
  stop?: string;
  /** The format's own fields, read after the stop sequences. */
  extra?: (r: Reader, b: Json, request: ChatRequest) => void;
  /** The format has top-level `user` and a string-map `metadata`. */
  userAndMetadata?: boolean;
}

/** Reads the generation options and the passthrough of `b` into `request`, in the fixed order. */
export function decodeRequestOptions(
  r: Reader,
  b: Json,
  request: ChatRequest,
  fields: RequestOptionFields,
): void {
  if (fields.parallelToolCalls) {
    const parallel = r.optBool(b.parallel_tool_calls, "parallel_tool_calls");
    if (parallel !== undefined) request.parallel_tool_calls = parallel;
  }
  for (const name of fields.maxTokens ?? []) {
    const max = r.optInt(b[name], name, 1);
    if (max === undefined) continue;
    request.max_tokens = max;
    break;
  }
  const temperature = r.optNumber(b.temperature, "temperature", 0, fields.temperatureMax);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = r.optNumber(b.top_p, "top_p", 0, 1);
  if (topP !== undefined) request.top_p = topP;
  if (fields.stop !== undefined) {
    const stop = r.optStrings(b[fields.stop], fields.stop);
    if (stop) request.stop = stop;
  }
  fields.extra?.(r, b, request);
  if (fields.userAndMetadata) {
    const user = r.optString(b.user, "user");
    if (user !== undefined) request.user = user;
    const metadata = r.optStringMap(b.metadata, "metadata");
    if (metadata) request.metadata = metadata;
  }
  const passthrough = collectPassthrough(b, fields.modelled, fields.format, fields.noops);
  if (passthrough) request.passthrough = passthrough;
}
