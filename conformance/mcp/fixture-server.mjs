/**
 * Conformance fixture: an MCP server (2025-11-25 era) exposing exactly what the official
 * conformance scenarios call — the test_* tools, test:// resources and templates, the test_*
 * prompts, completions, logging and subscriptions. Run it directly over Streamable HTTP
 * (`--port N`, 0 = any; prints `LISTENING <port>` on stdout) or as a stdio upstream (`--stdio`)
 * behind Portcullis, so both runs exercise the same behaviour.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import {
  CONTENT_TOOLS,
  complete,
  ERROR_TOOL,
  noArgs,
  PROGRESS_TOOL,
  PROMPTS,
  progressTool,
  RESOURCE_TEMPLATES,
  readStaticResource,
  resourceList,
  sleep,
  staticPrompt,
  staticToolResult,
  text,
} from "./fixture-content.mjs";

const TOOLS = [
  ...CONTENT_TOOLS,
  { name: "test_tool_with_logging", description: "Logs three messages while running", inputSchema: noArgs },
  PROGRESS_TOOL,
  ERROR_TOOL,
  {
    name: "test_sampling",
    description: "Asks the client's model",
    inputSchema: { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"] },
  },
  {
    name: "test_elicitation",
    description: "Asks the user for details",
    inputSchema: { type: "object", properties: { message: { type: "string" } }, required: ["message"] },
  },
  {
    name: "test_elicitation_sep1034_defaults",
    description: "Elicitation with defaults",
    inputSchema: noArgs,
  },
  {
    name: "test_elicitation_sep1330_enums",
    description: "Elicitation with every enum form",
    inputSchema: noArgs,
  },
  {
    name: "json_schema_2020_12_tool",
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: {
        address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } },
      },
      properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
      additionalProperties: false,
    },
  },
  { name: "test_reconnection", description: "Closes its SSE stream mid-call", inputSchema: noArgs },
];

function elicitDefaultsSchema() {
  return {
    type: "object",
    properties: {
      name: { type: "string", default: "John Doe" },
      age: { type: "integer", default: 30 },
      score: { type: "number", default: 95.5 },
      status: { type: "string", enum: ["active", "inactive", "pending"], default: "active" },
      verified: { type: "boolean", default: true },
    },
  };
}

function elicitEnumsSchema() {
  return {
    type: "object",
    properties: {
      untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
      titledSingle: {
        type: "string",
        oneOf: [
          { const: "value1", title: "First Option" },
          { const: "value2", title: "Second Option" },
          { const: "value3", title: "Third Option" },
        ],
      },
      legacyEnum: {
        type: "string",
        enum: ["opt1", "opt2", "opt3"],
        enumNames: ["Option One", "Option Two", "Option Three"],
      },
      untitledMulti: { type: "array", items: { type: "string", enum: ["option1", "option2", "option3"] } },
      titledMulti: {
        type: "array",
        items: {
          anyOf: [
            { const: "value1", title: "First Choice" },
            { const: "value2", title: "Second Choice" },
            { const: "value3", title: "Third Choice" },
          ],
        },
      },
    },
  };
}

/** One server instance (one per HTTP session, one for stdio). */
function createFixture() {
  const server = new Server(
    { name: "portcullis-conformance-fixture", version: "1.0.0" },
    {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        completions: {},
        logging: {},
      },
    },
  );
  const subscribed = new Set();

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));

  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const args = req.params.arguments ?? {};
    const related = { relatedRequestId: extra.requestId };
    const fixed = staticToolResult(req.params.name);
    if (fixed) return fixed;
    switch (req.params.name) {
      case "test_tool_with_logging": {
        const log = (data) =>
          extra.sendNotification({ method: "notifications/message", params: { level: "info", data } });
        await log("Tool execution started");
        await sleep(50);
        await log("Tool processing data");
        await sleep(50);
        await log("Tool execution completed");
        return text("Tool with logging executed successfully");
      }
      case "test_tool_with_progress":
        return progressTool(req.params._meta?.progressToken, (n) => extra.sendNotification(n));
      case "test_sampling": {
        if (!server.getClientCapabilities()?.sampling)
          return { isError: true, content: [{ type: "text", text: "The client does not support sampling" }] };
        const res = await server.request(
          {
            method: "sampling/createMessage",
            params: {
              messages: [{ role: "user", content: { type: "text", text: String(args.prompt) } }],
              maxTokens: 100,
            },
          },
          CreateMessageResultSchema,
          related,
        );
        const reply = res.content?.type === "text" ? res.content.text : JSON.stringify(res.content);
        return text(`LLM response: ${reply}`);
      }
      case "test_elicitation": {
        if (!server.getClientCapabilities()?.elicitation)
          return {
            isError: true,
            content: [{ type: "text", text: "The client does not support elicitation" }],
          };
        const res = await server.request(
          {
            method: "elicitation/create",
            params: {
              message: String(args.message),
              requestedSchema: {
                type: "object",
                properties: {
                  username: { type: "string", description: "User's response" },
                  email: { type: "string", description: "User's email address" },
                },
                required: ["username", "email"],
              },
            },
          },
          ElicitResultSchema,
          related,
        );
        return text(`User response: action=${res.action}, content=${JSON.stringify(res.content ?? {})}`);
      }
      case "test_elicitation_sep1034_defaults":
      case "test_elicitation_sep1330_enums": {
        const defaults = req.params.name === "test_elicitation_sep1034_defaults";
        const res = await server.request(
          {
            method: "elicitation/create",
            params: {
              message: defaults ? "Please review the defaults" : "Please choose options",
              requestedSchema: defaults ? elicitDefaultsSchema() : elicitEnumsSchema(),
            },
          },
          ElicitResultSchema,
          related,
        );
        return text(
          `Elicitation completed: action=${res.action}, content=${JSON.stringify(res.content ?? {})}`,
        );
      }
      case "json_schema_2020_12_tool":
        return text(`Received: ${JSON.stringify(args)}`);
      case "test_reconnection":
        await sleep(100);
        extra.closeSSEStream?.();
        await sleep(200);
        return text("Reconnection test completed successfully");
      default:
        throw new McpError(-32602, `Unknown tool: ${req.params.name}`);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: resourceList("A resource to subscribe to"),
  }));

  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: RESOURCE_TEMPLATES,
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    const { uri } = req.params;
    const found = readStaticResource(uri);
    if (found) return found;
    throw new McpError(-32002, `Resource not found: ${uri}`, { uri });
  });

  server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscribed.add(req.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscribed.delete(req.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: PROMPTS }));

  server.setRequestHandler(GetPromptRequestSchema, async (req) => {
    const prompt = staticPrompt(req.params.name, req.params.arguments ?? {});
    if (prompt) return prompt;
    throw new McpError(-32602, `Unknown prompt: ${req.params.name}`);
  });

  server.setRequestHandler(CompleteRequestSchema, async (req) => complete(req.params.argument.value ?? ""));

  server.setRequestHandler(SetLevelRequestSchema, async () => ({}));
  return server;
}

class MemoryEvents {
  events = [];
  async storeEvent(stream, message) {
    const id = `${stream}_${this.events.length + 1}`;
    this.events.push({ id, stream, message });
    return id;
  }
  async getStreamIdForEventId(id) {
    return this.events.find((e) => e.id === id)?.stream;
  }
  async replayEventsAfter(lastId, { send }) {
    const at = this.events.findIndex((e) => e.id === lastId);
    if (at < 0) return "";
    const stream = this.events[at].stream;
    for (const e of this.events.slice(at + 1)) if (e.stream === stream) await send(e.id, e.message);
    return stream;
  }
}

async function serveHttp(port) {
  const sessions = new Map();
  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      req.on("error", reject);
    });
  const http = createServer(async (req, res) => {
    if (!req.url?.startsWith("/mcp")) {
      res.writeHead(404).end();
      return;
    }
    const id = req.headers["mcp-session-id"];
    let body;
    if (req.method === "POST") {
      const raw = await readBody(req);
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }),
        );
        return;
      }
    }
    let transport = typeof id === "string" ? sessions.get(id) : undefined;
    if (!transport) {
      if (req.method !== "POST" || body?.method !== "initialize" || id) {
        res.writeHead(id ? 404 : 400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32000, message: "Bad session" } }),
        );
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: new MemoryEvents(),
        retryInterval: 500,
        enableDnsRebindingProtection: true,
        allowedHosts: [`localhost:${http.address().port}`, `127.0.0.1:${http.address().port}`],
        onsessioninitialized: (sid) => sessions.set(sid, transport),
        onsessionclosed: (sid) => sessions.delete(sid),
      });
      await createFixture().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  await new Promise((resolve) => http.listen(port, "127.0.0.1", resolve));
  process.stdout.write(`LISTENING ${http.address().port}\n`);
  const stop = () => http.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

const argv = process.argv.slice(2);
if (argv.includes("--stdio")) {
  await createFixture().connect(new StdioServerTransport());
} else {
  const i = argv.indexOf("--port");
  await serveHttp(i >= 0 ? Number(argv[i + 1]) : 0);
}
