/**
 * The model API's entries in the gateway's OpenAPI document (server/rest/openapi.ts merges them).
 * Request and response bodies are the providers' own formats (OpenAI Chat Completions and
 * Responses, Anthropic Messages), so they are described by reference to those formats rather than
 * re-specified; errors after authentication come back in the same format.
 */
import type { Operation } from "../rest/openapi.js";

type Json = Record<string, unknown>;

const problem = (description: string): Json => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

const providerBody = (format: string): Json => ({
  description: `A ${format} body; \`stream: true\` answers with server-sent events in the same format`,
  content: { "application/json": { schema: { type: "object" } } },
});

function modelCall(operationId: string, format: string, summary: string): Record<string, Operation> {
  return {
    post: {
      operationId,
      summary,
      description:
        "Routed by the model name (an alias of a configured route); text is redacted before it leaves " +
        "(models.redaction), each target is decided by the policy (model/call) and audited. Every response " +
        "carries x-portcullis-overhead-ms and Server-Timing. Anthropic clients may authenticate with x-api-key.",
      tags: ["models"],
      requestBody: { required: true, ...providerBody(format) },
      responses: {
        "200": {
          description: "The answer, JSON or text/event-stream",
          content: {
            "application/json": { schema: { type: "object" } },
            "text/event-stream": { schema: { type: "string" } },
          },
        },
        "400": { description: `Invalid or unsupported request (${format} error body)` },
        "401": { $ref: "#/components/responses/Unauthenticated" },
        "403": { description: `Denied by the policy or blocked by redaction (${format} error body)` },
        "404": { description: `No route serves the model (${format} error body)` },
        "413": problem("Body over models.maxBodyBytes"),
        "429": { description: "The provider is rate limiting (Retry-After)" },
        "502": { description: "Every target failed" },
        "503": {
          description: "Every target's circuit breaker is open (Retry-After), or the sanitizer failed",
        },
        "504": { description: "The provider did not answer in time" },
      },
    },
  };
}

/** The paths of the model API. */
export function modelApiPaths(): Record<string, Record<string, Operation>> {
  return {
    "/v1/chat/completions": modelCall(
      "createChatCompletion",
      "OpenAI Chat Completions",
      "OpenAI-compatible chat completion through the model router",
    ),
    "/v1/responses": modelCall(
      "createResponse",
      "OpenAI Responses",
      "OpenAI Responses API through the model router",
    ),
    "/v1/messages": modelCall(
      "createMessage",
      "Anthropic Messages",
      "Anthropic-compatible message through the model router",
    ),
    "/v1/models": {
      get: {
        operationId: "listModels",
        summary: "The model names this principal may request (policy model/list)",
        description: "OpenAI's list shape; Anthropic's when the request carries anthropic-version.",
        tags: ["models"],
        responses: {
          "200": { description: "models", content: { "application/json": { schema: { type: "object" } } } },
          "401": { $ref: "#/components/responses/Unauthenticated" },
        },
      },
    },
  };
}
