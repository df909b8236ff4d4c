/**
 * The trivial upstream of the MCP benchmark: one `echo` tool on the v1 SDK's low-level server,
 * over stdio (`--stdio`) or Streamable HTTP with sessions and SSE responses (`--port N`, prints
 * `LISTENING <port>`), the way a typical SDK-based MCP server is deployed.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

function echoServer() {
  const server = new Server({ name: "echo", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      {
        name: "echo",
        description: "Returns its message",
        inputSchema: { type: "object", properties: { message: { type: "string" } }, required: ["message"] },
        annotations: { readOnlyHint: true },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => ({
    content: [{ type: "text", text: String(req.params.arguments?.message ?? "") }],
  }));
  return server;
}

if (process.argv.includes("--stdio")) {
  await echoServer().connect(new StdioServerTransport());
} else {
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
    const id = req.headers["mcp-session-id"];
    let transport = typeof id === "string" ? sessions.get(id) : undefined;
    if (!transport) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => sessions.set(sid, transport),
      });
      await echoServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });
  const i = process.argv.indexOf("--port");
  http.listen(i >= 0 ? Number(process.argv[i + 1]) : 0, "127.0.0.1", () => {
    process.stdout.write(`LISTENING ${http.address().port}\n`);
  });
  process.on("SIGTERM", () => process.exit(0));
}
