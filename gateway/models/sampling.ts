/**
 * MCP convergence: when an upstream MCP server asks for `sampling/createMessage` and no client of
 * the call in flight can sample, the model router may serve it. The bridge turns the MCP request
 * into a neutral `ChatRequest` (system prompt, text messages, max tokens, temperature, stop
 * sequences), picks the model from the request's `modelPreferences.hints` (the first hint some
 * route serves) or the configured default, and calls the model gateway as the principal
 * `upstream:<server>` (role `upstream`) — so the policy decides (`model/call`), redaction applies
 * and the call is audited like any other. Content the neutral shape cannot carry (audio, tool use
 * inside sampling) is refused with a clear MCP error, never dropped.
 */
import { randomUUID } from "node:crypto";
import {
  type CreateMessageRequest,
  type CreateMessageResult,
  ErrorCode,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import type { ChatMessage, ChatRequest, StopReason } from "../../adapters/models/types.js";
import { errorMessage } from "../errors.js";
import type { Principal } from "../pipeline/context.js";
import type { ModelGateway } from "./service.js";

/** Serves one sampling request of upstream `server`. */
export type SamplingBridge = (
  server: string,
  params: CreateMessageRequest["params"],
  signal?: AbortSignal,
) => Promise<CreateMessageResult>;

export interface SamplingBridgeOptions {
  /** The model name asked for when no hint names one a route serves. */
  defaultModel?: string;
  /** Whether a route serves a model name (the router's `route`). */
  serves(model: string): boolean;
}

const STOP: Record<StopReason, string> = {
  end_turn: "endTurn",
  max_tokens: "maxTokens",
  stop_sequence: "stopSequence",
  tool_use: "toolUse",
  content_filter: "endTurn",
};

function refuse(message: string): McpError {
  return new McpError(ErrorCode.InvalidRequest, `sampling by the gateway: ${message}`);
}

function toMessages(params: CreateMessageRequest["params"]): ChatMessage[] {
  return params.messages.map((m, i) => {
    const blocks = Array.isArray(m.content) ? m.content : [m.content];
    return {
      role: m.role,
      content: blocks.map((b) => {
        if (b.type === "text") return { type: "text" as const, text: b.text };
        if (b.type === "image") return { type: "image" as const, data: b.data, media_type: b.mimeType };
        throw refuse(`message ${i} has ${b.type} content, which model providers cannot take here`);
      }),
    };
  });
}

export function createSamplingBridge(gateway: ModelGateway, opts: SamplingBridgeOptions): SamplingBridge {
  return async (server, params, signal) => {
    const hinted = params.modelPreferences?.hints?.map((h) => h.name).find((n) => n && opts.serves(n));
    const model = hinted ?? opts.defaultModel;
    if (!model) throw refuse("no model route serves the requested hints and no default model is configured");
    const request: ChatRequest = {
      model,
      system: params.systemPrompt ? [params.systemPrompt] : [],
      messages: toMessages(params),
      max_tokens: params.maxTokens,
      ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
      ...(params.stopSequences ? { stop: params.stopSequences } : {}),
      stream: false,
    };
    const principal: Principal = {
      id: `upstream:${server}`,
      roles: ["upstream"],
      // A configured upstream is trusted as the gateway's own configuration; the policy decides what it may use.
      authenticated: true,
      via: "stdio",
    };
    try {
      const answer = await gateway.complete(request, {
        id: randomUUID(),
        principal,
        transport: "stdio",
        signal: signal ?? new AbortController().signal,
      });
      const text = answer.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
      return {
        role: "assistant",
        content: { type: "text", text },
        model: answer.model,
        stopReason: STOP[answer.stop_reason],
      };
    } catch (e) {
      if (e instanceof McpError) throw e;
      throw refuse(errorMessage(e));
    }
  };
}
