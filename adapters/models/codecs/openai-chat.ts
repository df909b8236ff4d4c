/**
 * OpenAI Chat Completions codec (also the API of OpenAI-compatible local servers: Ollama, vLLM,
 * llama.cpp). `system` and `developer` messages become the neutral system prompts, assistant
 * `tool_calls` become tool-call parts, `tool` messages become tool-result parts (consecutive ones
 * merged into one neutral `tool` message), `finish_reason` maps to the neutral stop reason.
 * Fields the neutral shape does not model ride along as passthrough. The stream half lives in
 * `openai-chat-stream.ts`.
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
  FINISH_TO_STOP,
  OpenAIChatStreamDecoder,
  OpenAIChatStreamEncoder,
  STOP_TO_FINISH,
} from "./openai-chat-stream.js";
import {
  decodeOpenAIToolChoice,
  decodeRequestHead,
  decodeRequestOptions,
  type RequestOptionFields,
} from "./request-options.js";
import {
  dataUrl,
  grammarGuarded,
  type Json,
  openaiErrorBody,
  parseDataUrl,
  passthroughFor,
  type Reader,
  requestReader,
  responseReader,
} from "./shared.js";

const FORMAT = "openai_chat" as const;

const MODELLED = new Set([
  "model",
  "messages",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "stop",
  "stream",
  "stream_options",
  "user",
  "metadata",
]);

/** Values of unmodelled fields that are the API's defaults, so carrying them asks for nothing. */
const NOOPS = { n: 1, logprobs: false, presence_penalty: 0, frequency_penalty: 0, store: false };

const OPTIONS: RequestOptionFields = {
  format: FORMAT,
  modelled: MODELLED,
  noops: NOOPS,
  parallelToolCalls: true,
  maxTokens: ["max_completion_tokens", "max_tokens"],
  temperatureMax: 2,
  stop: "stop",
  extra: (r, b, request) => {
    if (b.stream_options === undefined || b.stream_options === null) return;
    const so = r.object(b.stream_options, "stream_options");
    const include = r.optBool(so.include_usage, "stream_options.include_usage");
    if (include !== undefined) request.include_usage = include;
  },
  userAndMetadata: true,
};

/** Text of a `content` that is a string or an array of `text` (and `refusal`) parts. */
function textContent(r: Reader, content: unknown, path: string): string {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  return r
    .array(content, path)
    .map((p, i) => {
      const part = r.object(p, `${path}[${i}]`);
      if (part.type === "text") return r.string(part.text, `${path}[${i}].text`);
      if (part.type === "refusal") return r.string(part.refusal, `${path}[${i}].refusal`);
      throw new UnsupportedFeatureError(`${String(part.type)} content in this message`, "any");
    })
    .join("");
}

function userParts(r: Reader, content: unknown, path: string): ContentPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return r.array(content, path).map((p, i): ContentPart => {
    const part = r.object(p, `${path}[${i}]`);
    if (part.type === "text") return { type: "text", text: r.string(part.text, `${path}[${i}].text`) };
    if (part.type === "image_url") {
      const image = r.object(part.image_url, `${path}[${i}].image_url`);
      const url = r.string(image.url, `${path}[${i}].image_url.url`);
      const inline = parseDataUrl(url);
      return inline ? { type: "image", ...inline } : { type: "image", url };
    }
    throw new UnsupportedFeatureError(`${String(part.type)} content parts`, "any");
  });
}

function decodeMessages(r: Reader, value: unknown, system: string[]): ChatMessage[] {
  const list = r.array(value, "messages");
  if (list.length === 0) r.fail("messages", "at least one message");
  const out: ChatMessage[] = [];
  list.forEach((item, i) => {
    const path = `messages[${i}]`;
    const m = r.object(item, path);
    switch (m.role) {
      case "system":
      case "developer":
        system.push(textContent(r, m.content, `${path}.content`));
        return;
      case "user":
        out.push({ role: "user", content: userParts(r, m.content, `${path}.content`) });
        return;
      case "assistant": {
        const content: ContentPart[] = [];
        const text = textContent(r, m.content, `${path}.content`);
        if (text !== "") content.push({ type: "text", text });
        if (typeof m.refusal === "string" && m.refusal !== "")
          content.push({ type: "text", text: m.refusal });
        if (m.tool_calls !== undefined && m.tool_calls !== null) {
          r.array(m.tool_calls, `${path}.tool_calls`).forEach((c, j) => {
            const cp = `${path}.tool_calls[${j}]`;
            const call = r.object(c, cp);
            if (call.type !== undefined && call.type !== "function") {
              throw new UnsupportedFeatureError(`${String(call.type)} tool calls`, "any");
            }
            const fn = r.object(call.function, `${cp}.function`);
            content.push({
              type: "tool_call",
              id: r.string(call.id, `${cp}.id`),
              name: r.string(fn.name, `${cp}.function.name`),
              arguments: r.string(fn.arguments, `${cp}.function.arguments`),
            });
          });
        }
        out.push({ role: "assistant", content });
        return;
      }
      case "tool": {
        const part: ContentPart = {
          type: "tool_result",
          tool_call_id: r.string(m.tool_call_id, `${path}.tool_call_id`),
          content: textContent(r, m.content, `${path}.content`),
        };
        const last = out[out.length - 1];
        if (last?.role === "tool") last.content.push(part);
        else out.push({ role: "tool", content: [part] });
        return;
      }
      case "function":
        throw new UnsupportedFeatureError("legacy function messages", "any", "use tool messages");
      default:
        r.fail(`${path}.role`, "system, developer, user, assistant or tool");
    }
  });
  return out;
}

function decodeTools(r: Reader, value: unknown): ToolDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  return r.array(value, "tools").map((t, i) => {
    const tool = r.object(t, `tools[${i}]`);
    if (tool.type !== "function") throw new UnsupportedFeatureError(`${String(tool.type)} tools`, "any");
    const fn = r.object(tool.function, `tools[${i}].function`);
    const def: ToolDefinition = {
      name: r.string(fn.name, `tools[${i}].function.name`),
      parameters:
        fn.parameters === undefined
          ? { type: "object", properties: {} }
          : r.object(fn.parameters, `tools[${i}].function.parameters`),
    };
    const description = r.optString(fn.description, `tools[${i}].function.description`);
    if (description !== undefined) def.description = description;
    const strict = r.optBool(fn.strict, `tools[${i}].function.strict`);
    if (strict !== undefined) def.strict = strict;
    return def;
  });
}

function decodeToolChoice(r: Reader, value: unknown): ToolChoice | undefined {
  return decodeOpenAIToolChoice(r, value, (o) =>
    r.string(r.object(o.function, "tool_choice.function").name, "tool_choice.function.name"),
  );
}

function encodeMessages(request: ChatRequest): Json[] {
  const out: Json[] = request.system.map((text) => ({ role: "system", content: text }));
  for (const m of request.messages) {
    const results = m.content.filter((p) => p.type === "tool_result");
    for (const p of results) out.push({ role: "tool", tool_call_id: p.tool_call_id, content: p.content });
    const rest = m.content.filter((p) => p.type !== "tool_result");
    if (rest.length === 0) continue;
    if (m.role === "assistant") {
      const text = rest.filter((p) => p.type === "text").map((p) => p.text);
      const calls = rest.filter((p) => p.type === "tool_call");
      if (rest.some((p) => p.type === "image"))
        throw new UnsupportedFeatureError("images in assistant messages", FORMAT);
      const msg: Json = { role: "assistant", content: text.length > 0 ? text.join("") : null };
      if (calls.length > 0) {
        msg.tool_calls = calls.map((c) => ({
          id: c.id,
          type: "function",
          function: { name: c.name, arguments: c.arguments },
        }));
      }
      out.push(msg);
    } else {
      if (rest.some((p) => p.type === "tool_call"))
        throw new UnsupportedFeatureError("tool calls outside assistant messages", FORMAT);
      const onlyText = rest.every((p) => p.type === "text");
      out.push({
        role: "user",
        content: onlyText
          ? rest.map((p) => (p.type === "text" ? p.text : "")).join("")
          : rest.map((p) =>
              p.type === "text"
                ? { type: "text", text: p.text }
                : { type: "image_url", image_url: { url: imageUrl(p) } },
            ),
      });
    }
  }
  return out;
}

function imageUrl(p: ContentPart): string {
  if (p.type !== "image") return "";
  if (p.url !== undefined) return p.url;
  if (p.data !== undefined) return dataUrl(p.media_type, p.data);
  throw new UnsupportedFeatureError("an image without url or data", FORMAT);
}

export interface OpenAIChatCodecOptions {
  /** The request field for the output limit: OpenAI wants `max_completion_tokens`; older compatible servers `max_tokens`. */
  maxTokensField?: "max_tokens" | "max_completion_tokens";
}

export function createOpenAIChatCodec(options: OpenAIChatCodecOptions = {}): WireCodec {
  const maxTokensField = options.maxTokensField ?? "max_completion_tokens";
  return {
    format: FORMAT,

    decodeRequest(body: unknown): ChatRequest {
      const r = requestReader;
      const b = r.object(body, "body");
      if (b.n !== undefined && b.n !== null && b.n !== 1) {
        throw new UnsupportedFeatureError("n > 1 (several choices per request)", "any");
      }
      const request = decodeRequestHead(r, b, () => {
        const system: string[] = [];
        return { system, messages: decodeMessages(r, b.messages, system) };
      });
      const tools = decodeTools(r, b.tools);
      if (tools) request.tools = tools;
      const choice = decodeToolChoice(r, b.tool_choice);
      if (choice) request.tool_choice = choice;
      decodeRequestOptions(r, b, request, OPTIONS);
      return request;
    },

    encodeRequest(request: ChatRequest, model: string): Json {
      const body: Json = { model, messages: encodeMessages(request) };
      if (request.tools) {
        body.tools = request.tools.map((t) => ({
          type: "function",
          function: {
            name: t.name,
            ...(t.description !== undefined ? { description: t.description } : {}),
            parameters: t.parameters,
            ...(t.strict !== undefined ? { strict: t.strict } : {}),
          },
        }));
      }
      if (request.tool_choice !== undefined) {
        body.tool_choice =
          typeof request.tool_choice === "string"
            ? request.tool_choice
            : { type: "function", function: { name: request.tool_choice.name } };
      }
      if (request.parallel_tool_calls !== undefined) body.parallel_tool_calls = request.parallel_tool_calls;
      if (request.max_tokens !== undefined) body[maxTokensField] = request.max_tokens;
      if (request.temperature !== undefined) body.temperature = request.temperature;
      if (request.top_p !== undefined) body.top_p = request.top_p;
      if (request.stop !== undefined) body.stop = request.stop;
      if (request.user !== undefined) body.user = request.user;
      if (request.metadata !== undefined) body.metadata = request.metadata;
      if (request.stream) {
        body.stream = true;
        // The gateway always wants usage (audit, budgets), whatever the caller asked for.
        body.stream_options = { include_usage: true };
      }
      return { ...passthroughFor(request, FORMAT), ...body };
    },

    decodeResponse(body: unknown): ChatResponse {
      const r = responseReader;
      const b = r.object(body, "response");
      const choices = r.array(b.choices, "choices");
      const choice = r.object(choices[0], "choices[0]");
      const message = r.object(choice.message, "choices[0].message");
      const content: ContentPart[] = [];
      const text = typeof message.content === "string" ? message.content : "";
      if (text !== "") content.push({ type: "text", text });
      if (typeof message.refusal === "string" && message.refusal !== "")
        content.push({ type: "text", text: message.refusal });
      if (Array.isArray(message.tool_calls)) {
        message.tool_calls.forEach((c, j) => {
          const call = r.object(c, `tool_calls[${j}]`);
          const fn = r.object(call.function, `tool_calls[${j}].function`);
          content.push({
            type: "tool_call",
            id: r.string(call.id, `tool_calls[${j}].id`),
            name: r.string(fn.name, `tool_calls[${j}].function.name`),
            arguments: typeof fn.arguments === "string" ? fn.arguments : "{}",
          });
        });
      }
      const finish = r.string(choice.finish_reason, "choices[0].finish_reason");
      const response: ChatResponse = {
        id: r.string(b.id, "id"),
        model: r.string(b.model, "model"),
        content,
        stop_reason: FINISH_TO_STOP[finish] ?? r.fail("choices[0].finish_reason", "a known finish reason"),
      };
      if (b.usage !== undefined && b.usage !== null) {
        const u = r.object(b.usage, "usage");
        response.usage = {
          input_tokens: r.optInt(u.prompt_tokens, "usage.prompt_tokens") ?? 0,
          output_tokens: r.optInt(u.completion_tokens, "usage.completion_tokens") ?? 0,
        };
      }
      return response;
    },

    encodeResponse(response: ChatResponse): Json {
      const text = response.content.filter((p) => p.type === "text").map((p) => p.text);
      const calls = response.content.filter((p) => p.type === "tool_call");
      const message: Json = {
        role: "assistant",
        content: text.length > 0 ? text.join("") : null,
        refusal: null,
      };
      if (calls.length > 0) {
        message.tool_calls = calls.map((c) => ({
          id: c.id,
          type: "function",
          function: { name: c.name, arguments: c.arguments },
        }));
      }
      const body: Json = {
        id: response.id,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: response.model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: STOP_TO_FINISH[response.stop_reason] }],
      };
      if (response.usage) {
        body.usage = {
          prompt_tokens: response.usage.input_tokens,
          completion_tokens: response.usage.output_tokens,
          total_tokens: response.usage.input_tokens + response.usage.output_tokens,
        };
      }
      return body;
    },

    streamDecoder: () => grammarGuarded(new OpenAIChatStreamDecoder(), FORMAT),
    streamEncoder: (request?: ChatRequest) => new OpenAIChatStreamEncoder(request?.include_usage === true),

    encodeError: (error: ModelErrorBody): Json => openaiErrorBody(error),
  };
}

/** The codec with OpenAI's own field names. */
export const openaiChatCodec: WireCodec = createOpenAIChatCodec();
