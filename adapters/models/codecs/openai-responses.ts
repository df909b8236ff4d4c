/**
 * OpenAI Responses codec. `instructions` and `system`/`developer` input messages become the
 * neutral system prompts; input `function_call` items become tool-call parts of an assistant
 * message and `function_call_output` items tool results; output items map the same way back.
 * Function tools are sent with an explicit `strict` (the API's default is strict) and requests
 * are sent with `store: false` unless the caller itself asked this format to store. Responses has
 * no stop sequences, so a request with them is refused. The stream half lives in
 * `openai-responses-stream.ts`.
 */
import { ProviderError, UnsupportedFeatureError } from "../errors.js";
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
  ResponsesStreamDecoder,
  ResponsesStreamEncoder,
  responseStop,
  responseUsage,
} from "./openai-responses-stream.js";
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

const FORMAT = "openai_responses" as const;

const MODELLED = new Set([
  "model",
  "input",
  "instructions",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "max_output_tokens",
  "temperature",
  "top_p",
  "stream",
  "user",
  "metadata",
]);

const NOOPS = { store: false };

const OPTIONS: RequestOptionFields = {
  format: FORMAT,
  modelled: MODELLED,
  noops: NOOPS,
  parallelToolCalls: true,
  maxTokens: ["max_output_tokens"],
  temperatureMax: 2,
  userAndMetadata: true,
};

function contentParts(r: Reader, content: unknown, path: string): ContentPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return r.array(content, path).map((p, i): ContentPart => {
    const part = r.object(p, `${path}[${i}]`);
    const pp = `${path}[${i}]`;
    switch (part.type) {
      case "input_text":
      case "output_text":
        return { type: "text", text: r.string(part.text, `${pp}.text`) };
      case "refusal":
        return { type: "text", text: r.string(part.refusal, `${pp}.refusal`) };
      case "input_image": {
        const url = r.optString(part.image_url, `${pp}.image_url`);
        if (url === undefined) throw new UnsupportedFeatureError("images by file_id", "any");
        const inline = parseDataUrl(url);
        return inline ? { type: "image", ...inline } : { type: "image", url };
      }
      default:
        throw new UnsupportedFeatureError(`${String(part.type)} content`, "any");
    }
  });
}

function decodeInput(r: Reader, input: unknown, system: string[]): ChatMessage[] {
  if (typeof input === "string") return [{ role: "user", content: [{ type: "text", text: input }] }];
  const items = r.array(input, "input");
  if (items.length === 0) r.fail("input", "a string or at least one item");
  const out: ChatMessage[] = [];
  const append = (role: ChatMessage["role"], parts: ContentPart[]) => {
    const last = out[out.length - 1];
    if (last && last.role === role && role !== "user") last.content.push(...parts);
    else out.push({ role, content: parts });
  };
  items.forEach((x, i) => {
    const path = `input[${i}]`;
    const item = r.object(x, path);
    const type = item.type ?? "message";
    if (type === "message") {
      const role = item.role;
      if (role === "system" || role === "developer") {
        system.push(
          contentParts(r, item.content, `${path}.content`)
            .map((p) => (p.type === "text" ? p.text : ""))
            .join(""),
        );
      } else if (role === "user" || role === "assistant") {
        append(role, contentParts(r, item.content, `${path}.content`));
      } else {
        r.fail(`${path}.role`, "user, assistant, system or developer");
      }
    } else if (type === "function_call") {
      append("assistant", [
        {
          type: "tool_call",
          id: r.string(item.call_id, `${path}.call_id`),
          name: r.string(item.name, `${path}.name`),
          arguments: r.string(item.arguments, `${path}.arguments`),
        },
      ]);
    } else if (type === "function_call_output") {
      const output =
        typeof item.output === "string"
          ? item.output
          : contentParts(r, item.output, `${path}.output`)
              .map((p) => (p.type === "text" ? p.text : ""))
              .join("");
      append("tool", [
        { type: "tool_result", tool_call_id: r.string(item.call_id, `${path}.call_id`), content: output },
      ]);
    } else {
      throw new UnsupportedFeatureError(`${String(type)} input items`, "any");
    }
  });
  return out;
}

function decodeTools(r: Reader, value: unknown): ToolDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  return r.array(value, "tools").map((t, i) => {
    const tool = r.object(t, `tools[${i}]`);
    if (tool.type !== "function")
      throw new UnsupportedFeatureError(`built-in tool ${String(tool.type)}`, "any");
    const def: ToolDefinition = {
      name: r.string(tool.name, `tools[${i}].name`),
      parameters:
        tool.parameters === undefined || tool.parameters === null
          ? { type: "object", properties: {} }
          : r.object(tool.parameters, `tools[${i}].parameters`),
    };
    const description = r.optString(tool.description, `tools[${i}].description`);
    if (description !== undefined) def.description = description;
    // The Responses API treats an absent `strict` as true.
    def.strict = r.optBool(tool.strict, `tools[${i}].strict`) ?? true;
    return def;
  });
}

function decodeToolChoice(r: Reader, value: unknown): ToolChoice | undefined {
  return decodeOpenAIToolChoice(r, value, (o) => r.string(o.name, "tool_choice.name"));
}

function encodeInput(messages: ChatMessage[]): Json[] {
  const out: Json[] = [];
  for (const m of messages) {
    const pending: Json[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      out.push({ role: m.role === "assistant" ? "assistant" : "user", content: [...pending] });
      pending.length = 0;
    };
    for (const p of m.content) {
      if (p.type === "text")
        pending.push({ type: m.role === "assistant" ? "output_text" : "input_text", text: p.text });
      else if (p.type === "image") {
        if (m.role === "assistant") throw new UnsupportedFeatureError("images in assistant messages", FORMAT);
        pending.push({
          type: "input_image",
          image_url: p.url ?? dataUrl(p.media_type, p.data ?? ""),
          detail: "auto",
        });
      } else if (p.type === "tool_call") {
        flush();
        out.push({ type: "function_call", call_id: p.id, name: p.name, arguments: p.arguments });
      } else {
        flush();
        out.push({ type: "function_call_output", call_id: p.tool_call_id, output: p.content });
      }
    }
    flush();
  }
  return out;
}

function outputItems(response: ChatResponse): Json[] {
  const items: Json[] = [];
  response.content.forEach((p, i) => {
    if (p.type === "text") {
      items.push({
        type: "message",
        id: `msg_${response.id}_${i}`,
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: p.text, annotations: [] }],
      });
    } else if (p.type === "tool_call") {
      items.push({
        type: "function_call",
        id: `fc_${response.id}_${i}`,
        call_id: p.id,
        name: p.name,
        arguments: p.arguments,
        status: "completed",
      });
    }
  });
  return items;
}

export const openaiResponsesCodec: WireCodec = {
  format: FORMAT,

  decodeRequest(body: unknown): ChatRequest {
    const r = requestReader;
    const b = r.object(body, "body");
    const system: string[] = [];
    const instructions = r.optString(b.instructions, "instructions");
    if (instructions !== undefined && instructions !== "") system.push(instructions);
    const request = decodeRequestHead(r, b, () => ({ system, messages: decodeInput(r, b.input, system) }));
    const tools = decodeTools(r, b.tools);
    if (tools) request.tools = tools;
    const choice = decodeToolChoice(r, b.tool_choice);
    if (choice) request.tool_choice = choice;
    decodeRequestOptions(r, b, request, OPTIONS);
    return request;
  },

  encodeRequest(request: ChatRequest, model: string): Json {
    const extra = passthroughFor(request, FORMAT);
    if (request.stop && request.stop.length > 0) throw new UnsupportedFeatureError("stop sequences", FORMAT);
    const body: Json = { model, input: encodeInput(request.messages) };
    if (request.system.length > 0) body.instructions = request.system.join("\n\n");
    if (request.tools) {
      body.tools = request.tools.map((t) => ({
        type: "function",
        name: t.name,
        ...(t.description !== undefined ? { description: t.description } : {}),
        parameters: t.parameters,
        strict: t.strict ?? false,
      }));
    }
    if (request.tool_choice !== undefined) {
      body.tool_choice =
        typeof request.tool_choice === "string"
          ? request.tool_choice
          : { type: "function", name: request.tool_choice.name };
    }
    if (request.parallel_tool_calls !== undefined) body.parallel_tool_calls = request.parallel_tool_calls;
    if (request.max_tokens !== undefined) body.max_output_tokens = request.max_tokens;
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.top_p !== undefined) body.top_p = request.top_p;
    if (request.user !== undefined) body.user = request.user;
    if (request.metadata !== undefined) body.metadata = request.metadata;
    if (request.stream) body.stream = true;
    return { store: false, ...extra, ...body };
  },

  decodeResponse(body: unknown): ChatResponse {
    const r = responseReader;
    const b = r.object(body, "response");
    if (b.status === "failed") {
      const error = (b.error ?? {}) as Json;
      throw new ProviderError(
        "server_error",
        typeof error.message === "string" ? error.message : "the response failed",
      );
    }
    const content: ContentPart[] = [];
    let sawToolCall = false;
    r.array(b.output, "output").forEach((x, i) => {
      const item = r.object(x, `output[${i}]`);
      if (item.type === "message") {
        for (const p of r.array(item.content, `output[${i}].content`)) {
          const part = r.object(p, `output[${i}].content[]`);
          if (part.type === "output_text")
            content.push({ type: "text", text: r.string(part.text, "output_text.text") });
          else if (part.type === "refusal")
            content.push({ type: "text", text: r.string(part.refusal, "refusal.refusal") });
        }
      } else if (item.type === "function_call") {
        sawToolCall = true;
        content.push({
          type: "tool_call",
          id: r.string(item.call_id, `output[${i}].call_id`),
          name: r.string(item.name, `output[${i}].name`),
          arguments: r.string(item.arguments, `output[${i}].arguments`),
        });
      }
    });
    const response: ChatResponse = {
      id: r.string(b.id, "id"),
      model: r.string(b.model, "model"),
      content,
      stop_reason: responseStop(b, sawToolCall),
    };
    const usage = responseUsage(b.usage);
    if (usage) response.usage = usage;
    return response;
  },

  encodeResponse(response: ChatResponse): Json {
    const incomplete = response.stop_reason === "max_tokens" || response.stop_reason === "content_filter";
    return {
      id: response.id,
      object: "response",
      created_at: Math.floor(Date.now() / 1000),
      status: incomplete ? "incomplete" : "completed",
      model: response.model,
      output: outputItems(response),
      error: null,
      incomplete_details: incomplete
        ? { reason: response.stop_reason === "content_filter" ? "content_filter" : "max_output_tokens" }
        : null,
      usage: response.usage
        ? {
            input_tokens: response.usage.input_tokens,
            output_tokens: response.usage.output_tokens,
            total_tokens: response.usage.input_tokens + response.usage.output_tokens,
          }
        : null,
    };
  },

  streamDecoder: () => grammarGuarded(new ResponsesStreamDecoder(), FORMAT),
  streamEncoder: () => new ResponsesStreamEncoder(),

  encodeError: (error: ModelErrorBody): Json => openaiErrorBody(error),
};
