/**
 * Conformance fixture for the 2026-07-28 requirement set, on the v2 SDK: one factory serves the
 * stateless 2026 era over HTTP (`--port N`, prints `LISTENING <port>`) and, over stdio
 * (`--stdio`), whichever era the connecting client speaks — so Portcullis can front it as an
 * upstream. It exposes what the era's core scenarios call (test_* tools, test:// resources and
 * template, test_* prompts, completions, caching hints); the diagnostic tools of the
 * input-required, server-stateless and custom-header scenarios are not implemented (see
 * expected-failures.2026.yml).
 */
import { createServer } from "node:http";
import { createMcpHandler, ProtocolError, Server } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA==";
const noArgs = { type: "object", properties: {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cache = { ttlMs: 60_000, cacheScope: "public" };

const TOOLS = [
  { name: "test_simple_text", description: "Returns a simple text", inputSchema: noArgs },
  { name: "test_image_content", description: "Returns an image", inputSchema: noArgs },
  { name: "test_audio_content", description: "Returns audio", inputSchema: noArgs },
  { name: "test_embedded_resource", description: "Returns an embedded resource", inputSchema: noArgs },
  {
    name: "test_multiple_content_types",
    description: "Returns text, image and resource",
    inputSchema: noArgs,
  },
  { name: "test_tool_with_progress", description: "Reports progress 0, 50, 100", inputSchema: noArgs },
  { name: "test_error_handling", description: "Always fails", inputSchema: noArgs },
  {
    name: "json_schema_2020_12_tool",
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: {
        address: {
          $anchor: "address",
          type: "object",
          properties: { street: { type: "string" }, city: { type: "string" } },
        },
      },
      properties: {
        name: { type: "string" },
        address: { $ref: "#/$defs/address" },
        contact: { allOf: [{ type: "object" }], anyOf: [{ required: ["email"] }, { required: ["phone"] }] },
        kind: { type: "string" },
      },
      if: { properties: { kind: { const: "company" } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keywords
      then: { required: ["name"] },
      else: { required: [] },
      additionalProperties: false,
    },
  },
];

function callTool(name) {
  const text = (t) => ({ content: [{ type: "text", text: t }] });
  switch (name) {
    case "test_simple_text":
      return text("This is a simple text response for testing.");
    case "test_image_content":
      return { content: [{ type: "image", data: PNG, mimeType: "image/png" }] };
    case "test_audio_content":
      return { content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] };
    case "test_embedded_resource":
      return {
        content: [
          {
            type: "resource",
            resource: {
              uri: "test://embedded-resource",
              mimeType: "text/plain",
              text: "This is an embedded resource content.",
            },
          },
        ],
      };
    case "test_multiple_content_types":
      return {
        content: [
          { type: "text", text: "Multiple content types test:" },
          { type: "image", data: PNG, mimeType: "image/png" },
          {
            type: "resource",
            resource: {
              uri: "test://mixed-content-resource",
              mimeType: "application/json",
              text: JSON.stringify({ test: "data", value: 123 }),
            },
          },
        ],
      };
    case "test_error_handling":
      return {
        isError: true,
        content: [{ type: "text", text: "This tool intentionally returns an error for testing" }],
      };
    case "json_schema_2020_12_tool":
      return text("ok");
    default:
      throw new ProtocolError(-32602, `Unknown tool: ${name}`);
  }
}

function readResource(uri) {
  if (uri === "test://static-text")
    return {
      contents: [{ uri, mimeType: "text/plain", text: "This is the content of the static text resource." }],
    };
  if (uri === "test://static-binary") return { contents: [{ uri, mimeType: "image/png", blob: PNG }] };
  if (uri === "test://watched-resource")
    return { contents: [{ uri, mimeType: "text/plain", text: "Watched resource content." }] };
  const m = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
  if (m) {
    const id = m[1];
    return {
      contents: [
        {
          uri,
          mimeType: "application/json",
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        },
      ],
    };
  }
  throw new ProtocolError(-32602, "Resource not found", { uri });
}

function getPrompt(name, a) {
  const user = (content) => ({ role: "user", content });
  switch (name) {
    case "test_simple_prompt":
      return { messages: [user({ type: "text", text: "This is a simple prompt for testing." })] };
    case "test_prompt_with_arguments":
      return {
        messages: [user({ type: "text", text: `Prompt with arguments: arg1='${a.arg1}', arg2='${a.arg2}'` })],
      };
    case "test_prompt_with_embedded_resource":
      return {
        messages: [
          user({
            type: "resource",
            resource: {
              uri: a.resourceUri,
              mimeType: "text/plain",
              text: "Embedded resource content for testing.",
            },
          }),
          user({ type: "text", text: "Please process the embedded resource above." }),
        ],
      };
    case "test_prompt_with_image":
      return {
        messages: [
          user({ type: "image", data: PNG, mimeType: "image/png" }),
          user({ type: "text", text: "Please analyze the image above." }),
        ],
      };
    default:
      throw new ProtocolError(-32602, `Unknown prompt: ${name}`);
  }
}

function createFixture() {
  const server = new Server(
    { name: "portcullis-conformance-fixture-2026", version: "1.0.0" },
    { capabilities: { tools: {}, prompts: {}, resources: {}, completions: {}, logging: {} } },
  );
  server.setRequestHandler("tools/list", async () => ({ tools: TOOLS, ...cache }));
  server.setRequestHandler("tools/call", async (req, ctx) => {
    if (req.params.name === "test_tool_with_progress") {
      const token = req.params._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (token !== undefined)
          await ctx.mcpReq.notify({
            method: "notifications/progress",
            params: { progressToken: token, progress, total: 100 },
          });
        if (progress < 100) await sleep(50);
      }
      return { content: [{ type: "text", text: "Tool with progress executed successfully" }] };
    }
    return callTool(req.params.name);
  });
  server.setRequestHandler("resources/list", async () => ({
    resources: [
      {
        uri: "test://static-text",
        name: "static-text",
        description: "A static text resource",
        mimeType: "text/plain",
      },
      {
        uri: "test://static-binary",
        name: "static-binary",
        description: "A static PNG",
        mimeType: "image/png",
      },
      {
        uri: "test://watched-resource",
        name: "watched-resource",
        description: "A resource to watch",
        mimeType: "text/plain",
      },
    ],
    ...cache,
  }));
  server.setRequestHandler("resources/templates/list", async () => ({
    resourceTemplates: [
      {
        uriTemplate: "test://template/{id}/data",
        name: "template-data",
        description: "Data for an id",
        mimeType: "application/json",
      },
    ],
    ...cache,
  }));
  server.setRequestHandler("resources/read", async (req) => ({ ...readResource(req.params.uri), ...cache }));
  server.setRequestHandler("prompts/list", async () => ({
    prompts: [
      { name: "test_simple_prompt", description: "A prompt without arguments" },
      {
        name: "test_prompt_with_arguments",
        description: "A prompt with two arguments",
        arguments: [
          { name: "arg1", description: "First test argument", required: true },
          { name: "arg2", description: "Second test argument", required: true },
        ],
      },
      {
        name: "test_prompt_with_embedded_resource",
        description: "A prompt embedding a resource",
        arguments: [{ name: "resourceUri", description: "URI of the resource to embed", required: true }],
      },
      { name: "test_prompt_with_image", description: "A prompt with an image" },
    ],
    ...cache,
  }));
  server.setRequestHandler("prompts/get", async (req) =>
    getPrompt(req.params.name, req.params.arguments ?? {}),
  );
  server.setRequestHandler("completion/complete", async (req) => {
    const value = req.params.argument.value ?? "";
    const values = ["paris", "park", "party", "hello", "world"].filter((v) => v.startsWith(value));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}

const argv = process.argv.slice(2);
if (argv.includes("--stdio")) {
  serveStdio(() => createFixture());
} else {
  const handler = createMcpHandler(() => createFixture(), { legacy: "reject" });
  const http = createServer(async (req, res) => {
    const host = req.headers.host ?? "";
    if (!/^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host)) {
      res.writeHead(403).end();
      return;
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const request = new Request(`http://${host}${req.url}`, {
      method: req.method,
      headers: Object.entries(req.headers).flatMap(([k, v]) =>
        Array.isArray(v) ? v.map((x) => [k, x]) : v === undefined ? [] : [[k, v]],
      ),
      ...(body && req.method !== "GET" && req.method !== "HEAD" ? { body } : {}),
    });
    const response = await handler.fetch(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) for await (const chunk of response.body) res.write(chunk);
    res.end();
  });
  const i = argv.indexOf("--port");
  http.listen(i >= 0 ? Number(argv[i + 1]) : 0, "127.0.0.1", () =>
    process.stdout.write(`LISTENING ${http.address().port}\n`),
  );
  process.on("SIGTERM", () => process.exit(0));
}
