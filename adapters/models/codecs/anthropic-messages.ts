/**
 * Anthropic Messages codec. `system` (a string or text blocks) becomes the neutral system
 * prompts; `tool_use` blocks become tool-call parts (their `input` object as JSON text) and
 * `tool_result` blocks — which Anthropic puts in user turns — become a neutral `tool` message
 * ahead of the rest of that turn. Going the other way, tool results go back into a user turn and
 * consecutive user turns are merged. Things Anthropic cannot carry (OpenAI `response_format`,
 * `n > 1`, strict tool schemas, temperature above 1, OpenAI metadata) are refused, never dropped.
 * The stream half lives in `anthropic-messages-stream.ts`.
 */
import { UnsupportedFeatureError } from "../errors.js";
import type {
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  ModelErrorBody,
  ToolChoice,
  ToolDefinition,
  WireCodec,
} from "../types.js";
import {
  ANTHROPIC_STOP,
  AnthropicStreamDecoder,
  AnthropicStreamEncoder,
  anthropicErrorType,
  anthropicUsage,
  STOP_TO_ANTHROPIC,
} from "./anthropic-messages-stream.js";
import { decodeRequestHead, decodeRequestOptions, type RequestOptionFields } from "./request-options.js";
import {
  grammarGuarded,
  type Json,
  passthroughFor,
  type Reader,
  requestReader,
  responseReader,
} from "./shared.js";

const FORMAT = "anthropic_messages" as const;

/** Anthropic requires `max_tokens`; a request from a format where it is optional gets this. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

const MODELLED = new Set([
  "model",
  "messages",
  "system",
  "max_tokens",
  "temperature",
  "top_p",
  "stop_sequences",
  "stream",
  "tools",
  "tool_choice",
  "metadata",
]);

/** `max_tokens` is required, so it is read (and checked) ahead of the tools, not here. */
const OPTIONS: RequestOptionFields = {
  format: FORMAT,
  modelled: MODELLED,
  temperatureMax: 1,
  stop: "stop_sequences",
  extra: (r, b, request) => {
    if (b.metadata === undefined || b.metadata === null) return;
    const meta = r.object(b.metadata, "metadata");
    const user = r.optString(meta.user_id, "metadata.user_id");
    if (user !== undefined) request.user = user;
  },
};

function textBlocks(r: Reader, value: unknown, path: string): string {
  if (typeof value === "string") return value;
  return r
    .array(value, path)
    .map((b, i) => {
      const block = r.object(b, `${path}[${i}]`);
      if (block.type !== "text")
        throw new UnsupportedFeatureError(`${String(block.type)} blocks here`, "any");
      return r.string(block.text, `${path}[${i}].text`);
    })
    .join("");
}

function image(r: Reader, block: Json, path: string): ContentPart {
  const source = r.object(block.source, `${path}.source`);
  if (source.type === "base64") {
    return {
      type: "image",
      media_type: r.string(source.media_type, `${path}.source.media_type`),
      data: r.string(source.data, `${path}.source.data`),
    };
  }
  if (source.type === "url") return { type: "image", url: r.string(source.url, `${path}.source.url`) };
  throw new UnsupportedFeatureError(`${String(source.type)} image sources`, "any");
}

function decodeMessages(r: Reader, value: unknown): ChatMessage[] {
  const list = r.array(value, "messages");
  if (list.length === 0) r.fail("messages", "at least one message");
  const out: ChatMessage[] = [];
  list.forEach((item, i) => {
    const path = `messages[${i}]`;
    const m = r.object(item, path);
    if (m.role !== "user" && m.role !== "assistant") r.fail(`${path}.role`, "user or assistant");
    const role = m.role;
    if (typeof m.content === "string") {
      out.push({ role, content: [{ type: "text", text: m.content }] });
      return;
    }
    const results: ContentPart[] = [];
    const parts: ContentPart[] = [];
    r.array(m.content, `${path}.content`).forEach((b, j) => {
      const bp = `${path}.content[${j}]`;
      const block = r.object(b, bp);
      switch (block.type) {
        case "text":
          parts.push({ type: "text", text: r.string(block.text, `${bp}.text`) });
          return;
        case "image":
          parts.push(image(r, block, bp));
          return;
        case "tool_use":
          if (role !== "assistant") r.fail(`${bp}.type`, "tool_use only in assistant turns");
          parts.push({
            type: "tool_call",
            id: r.string(block.id, `${bp}.id`),
            name: r.string(block.name, `${bp}.name`),
            arguments: JSON.stringify(block.input === undefined ? {} : r.object(block.input, `${bp}.input`)),
          });
          return;
        case "tool_result": {
          if (role !== "user") r.fail(`${bp}.type`, "tool_result only in user turns");
          const part: ContentPart = {
            type: "tool_result",
            tool_call_id: r.string(block.tool_use_id, `${bp}.tool_use_id`),
            content: block.content === undefined ? "" : textBlocks(r, block.content, `${bp}.content`),
          };
          if (block.is_error === true) part.is_error = true;
          results.push(part);
          return;
        }
        default:
          throw new UnsupportedFeatureError(`${String(block.type)} content blocks`, "any");
      }
    });
    if (results.length > 0) out.push({ role: "tool", content: results });
    if (parts.length > 0 || results.length === 0) out.push({ role, content: parts });
  });
  return out;
}

function decodeTools(r: Reader, value: unknown): ToolDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  return r.array(value, "tools").map((t, i) => {
    const tool = r.object(t, `tools[${i}]`);
    if (tool.type !== undefined && tool.type !== "custom") {
      throw new UnsupportedFeatureError(`server tool ${String(tool.type)}`, "any");
    }
    const def: ToolDefinition = {
      name: r.string(tool.name, `tools[${i}].name`),
      parameters: r.object(tool.input_schema, `tools[${i}].input_schema`),
    };
    const description = r.optString(tool.description, `tools[${i}].description`);
    if (description !== undefined) def.description = description;
    return def;
  });
}

function decodeToolChoice(r: Reader, value: unknown, request: ChatRequest): void {
  if (value === undefined || value === null) return;
  const o = r.object(value, "tool_choice");
  const choices: Record<string, ToolChoice> = { auto: "auto", any: "required", none: "none" };
  if (o.type === "tool") request.tool_choice = { name: r.string(o.name, "tool_choice.name") };
  else if (typeof o.type === "string" && choices[o.type]) request.tool_choice = choices[o.type];
  else r.fail("tool_choice.type", "auto, any, tool or none");
  if (r.optBool(o.disable_parallel_tool_use, "tool_choice.disable_parallel_tool_use") === true) {
    request.parallel_tool_calls = false;
  }
}

function toolInput(args: string): Json {
  try {
    const parsed: unknown = JSON.parse(args === "" ? "{}" : args);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // refused below
  }
  throw new UnsupportedFeatureError("tool call arguments that are not a JSON object", FORMAT);
}

function encodeParts(parts: ContentPart[]): Json[] {
  const blocks: Json[] = [];
  for (const p of parts) {
    if (p.type === "text") {
      if (p.text !== "") blocks.push({ type: "text", text: p.text });
    } else if (p.type === "image") {
      if (p.data !== undefined) {
        blocks.push({
          type: "image",
          source: { type: "base64", media_type: p.media_type ?? "image/png", data: p.data },
        });
      } else if (p.url !== undefined) {
        blocks.push({ type: "image", source: { type: "url", url: p.url } });
      }
    } else if (p.type === "tool_call") {
      blocks.push({ type: "tool_use", id: p.id, name: p.name, input: toolInput(p.arguments) });
    } else {
      blocks.push({
        type: "tool_result",
        tool_use_id: p.tool_call_id,
        content: p.content,
        ...(p.is_error ? { is_error: true } : {}),
      });
    }
  }
  return blocks;
}

function encodeMessages(messages: ChatMessage[]): Json[] {
  const out: { role: string; content: Json[] }[] = [];
  for (const m of messages) {
    const role = m.role === "assistant" ? "assistant" : "user";
    const blocks = encodeParts(m.content);
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  return out;
}

function encodeToolChoice(request: ChatRequest): Json | undefined {
  const choice = request.tool_choice;
  let out: Json | undefined;
  if (choice === "auto") out = { type: "auto" };
  else if (choice === "required") out = { type: "any" };
  else if (choice === "none") out = { type: "none" };
  else if (choice !== undefined) out = { type: "tool", name: choice.name };
  if (request.parallel_tool_calls === false && choice !== "none")
    out = { ...(out ?? { type: "auto" }), disable_parallel_tool_use: true };
  return out;
}

export const anthropicMessagesCodec: WireCodec = {
  format: FORMAT,

  decodeRequest(body: unknown): ChatRequest {
    const r = requestReader;
    const b = r.object(body, "body");
    const request = decodeRequestHead(r, b, () => ({
      system: b.system === undefined || b.system === null ? [] : systemPrompts(r, b.system),
      messages: decodeMessages(r, b.messages),
    }));
    const max = r.optInt(b.max_tokens, "max_tokens", 1);
    if (max === undefined) r.fail("max_tokens", "a positive integer (Anthropic requires it)");
    request.max_tokens = max;
    const tools = decodeTools(r, b.tools);
    if (tools) request.tools = tools;
    decodeToolChoice(r, b.tool_choice, request);
    decodeRequestOptions(r, b, request, OPTIONS);
    return request;
  },

  encodeRequest(request: ChatRequest, model: string): Json {
    const extra = passthroughFor(request, FORMAT);
    if (request.temperature !== undefined && request.temperature > 1) {
      throw new UnsupportedFeatureError(`temperature ${request.temperature}`, FORMAT, "its range is 0 to 1");
    }
    if (request.metadata && Object.keys(request.metadata).length > 0) {
      throw new UnsupportedFeatureError("request metadata", FORMAT, "only an end-user id can be carried");
    }
    if (request.tools?.some((t) => t.strict === true))
      throw new UnsupportedFeatureError("strict tool schemas", FORMAT);
    const body: Json = {
      model,
      max_tokens: request.max_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
      messages: encodeMessages(request.messages),
    };
    if (request.system.length === 1) body.system = request.system[0];
    else if (request.system.length > 1) body.system = request.system.map((text) => ({ type: "text", text }));
    if (request.tools) {
      body.tools = request.tools.map((t) => ({
        name: t.name,
        ...(t.description !== undefined ? { description: t.description } : {}),
        input_schema: t.parameters,
      }));
    }
    const choice = encodeToolChoice(request);
    if (choice) body.tool_choice = choice;
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.top_p !== undefined) body.top_p = request.top_p;
    if (request.stop !== undefined) body.stop_sequences = request.stop;
    if (request.user !== undefined) body.metadata = { user_id: request.user };
    if (request.stream) body.stream = true;
    return { ...extra, ...body };
  },

  decodeResponse(body: unknown): ChatResponse {
    const r = responseReader;
    const b = r.object(body, "response");
    const content: ContentPart[] = [];
    r.array(b.content, "content").forEach((x, i) => {
      const block = r.object(x, `content[${i}]`);
      if (block.type === "text")
        content.push({ type: "text", text: r.string(block.text, `content[${i}].text`) });
      else if (block.type === "tool_use") {
        content.push({
          type: "tool_call",
          id: r.string(block.id, `content[${i}].id`),
          name: r.string(block.name, `content[${i}].name`),
          arguments: JSON.stringify(block.input ?? {}),
        });
      }
    });
    const stop = r.string(b.stop_reason, "stop_reason");
    const response: ChatResponse = {
      id: r.string(b.id, "id"),
      model: r.string(b.model, "model"),
      content,
      stop_reason: ANTHROPIC_STOP[stop] ?? r.fail("stop_reason", "a known stop reason"),
    };
    if (b.usage && typeof b.usage === "object") response.usage = anthropicUsage(b.usage as Json);
    return response;
  },

  encodeResponse(response: ChatResponse): Json {
    return {
      id: response.id,
      type: "message",
      role: "assistant",
      model: response.model,
      content: encodeParts(response.content.filter((p) => p.type === "text" || p.type === "tool_call")),
      stop_reason: STOP_TO_ANTHROPIC[response.stop_reason],
      stop_sequence: null,
      usage: {
        input_tokens: response.usage?.input_tokens ?? 0,
        output_tokens: response.usage?.output_tokens ?? 0,
      },
    };
  },

  streamDecoder: () => grammarGuarded(new AnthropicStreamDecoder(), FORMAT),
  streamEncoder: () => new AnthropicStreamEncoder(),

  encodeError(error: ModelErrorBody): Json {
    return { type: "error", error: { type: anthropicErrorType(error), message: error.message } };
  },
};

function systemPrompts(r: Reader, value: unknown): string[] {
  if (typeof value === "string") return value === "" ? [] : [value];
  return r.array(value, "system").map((b, i) => {
    const block = r.object(b, `system[${i}]`);
    if (block.type !== "text") r.fail(`system[${i}].type`, "text");
    return r.string(block.text, `system[${i}].text`);
  });
}
