/**
 * Conformance fixture for the 2026-07-28 requirement set, on the v2 SDK: one factory serves the
 * stateless 2026 era over HTTP (`--port N`, prints `LISTENING <port>`) and, over stdio
 * (`--stdio`), whichever era the connecting client speaks — so Portcullis can front it as an
 * upstream. It exposes what the era's core scenarios call (test_* tools, test:// resources and
 * template, test_* prompts, completions, caching hints), the input-required (multi-round-trip)
 * tools and prompt with HMAC-signed requestState, and the diagnostic tools of the server-stateless
 * and custom-header scenarios, and the tasks extension (SEP-2663) from fixture-tasks.mjs.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import {
  CLIENT_CAPABILITIES_META_KEY as CAPS_KEY,
  createMcpHandler,
  inputRequired,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  Server,
} from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
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
  staticPrompt,
  staticToolResult,
  text,
} from "./fixture-content.mjs";
import { registerTaskHandlers, TASK_TOOLS, TASKS_EXTENSION, taskToolCall } from "./fixture-tasks.mjs";

const cache = { ttlMs: 60_000, cacheScope: "public" };

const TOOLS = [
  ...CONTENT_TOOLS,
  PROGRESS_TOOL,
  ERROR_TOOL,
  {
    name: "json_schema_2020_12_tool",
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: {
        address: {
          $anchor: "addressDef",
          type: "object",
          properties: { street: { type: "string" }, city: { type: "string" } },
        },
      },
      properties: {
        name: { type: "string" },
        address: { $ref: "#/$defs/address" },
        contactMethod: { type: "string", enum: ["phone", "email"] },
        phone: { type: "string" },
        email: { type: "string" },
      },
      allOf: [{ anyOf: [{ required: ["phone"] }, { required: ["email"] }] }],
      if: { properties: { contactMethod: { const: "phone" } }, required: ["contactMethod"] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keywords
      then: { required: ["phone"] },
      else: { required: ["email"] },
      additionalProperties: false,
    },
  },
  ...[
    ["test_input_required_result_elicitation", "Asks for the user's name (input-required)"],
    ["test_input_required_result_sampling", "Asks the client's model a question (input-required)"],
    ["test_input_required_result_list_roots", "Asks for the client's roots (input-required)"],
    ["test_input_required_result_request_state", "Round-trips a signed requestState"],
    ["test_input_required_result_multiple_inputs", "Asks for three inputs in one round"],
    ["test_input_required_result_multi_round", "Asks in two rounds with evolving state"],
    ["test_input_required_result_tampered_state", "Refuses a tampered requestState"],
    ["test_input_required_result_capabilities", "Asks only for what the client declared"],
    ["test_missing_capability", "Needs the client's sampling capability"],
    ["test_streaming_elicitation", "Asks for input in-band, never with a server request"],
    ["test_logging_tool", "Logs at info level (only when the request set a log level)"],
    ["test_trigger_tool_change", "Adds a tool and announces tools/list_changed"],
    ["test_trigger_prompt_change", "Adds a prompt and announces prompts/list_changed"],
  ].map(([name, description]) => ({ name, description, inputSchema: noArgs })),
  ...TASK_TOOLS,
  {
    name: "test_custom_headers",
    description: "Echoes a parameter mirrored in the Mcp-Param-Region header",
    inputSchema: {
      type: "object",
      properties: { region: { type: "string", "x-mcp-header": "Region" } },
      required: ["region"],
    },
  },
];

function callTool(name, args) {
  const fixed = staticToolResult(name);
  if (fixed) return fixed;
  switch (name) {
    case "json_schema_2020_12_tool":
      return text("ok");
    case "test_custom_headers":
      return text(`region=${args.region}`);
    default:
      throw new ProtocolError(-32602, `Unknown tool: ${name}`);
  }
}

function readResource(uri) {
  const found = readStaticResource(uri);
  if (found) return found;
  throw new ProtocolError(-32602, "Resource not found", { uri });
}

function getPrompt(name, a) {
  const prompt = staticPrompt(name, a);
  if (prompt) return prompt;
  throw new ProtocolError(-32602, `Unknown prompt: ${name}`);
}

// ---- input-required (multi-round-trip) diagnostics of the 2026-07-28 suite (SEP-2322) ----

/** Signs requestState so a tampered one is refused (HMAC-SHA256 under a per-process key). */
const stateKey = randomBytes(32);
function seal(payload) {
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${createHmac("sha256", stateKey).update(body).digest("base64url")}`;
}
function unseal(state) {
  if (typeof state !== "string") return undefined;
  const [body, mac, extra] = state.split(".");
  if (!body || !mac || extra !== undefined)
    throw new ProtocolError(-32602, "requestState failed the integrity check");
  const expected = createHmac("sha256", stateKey).update(body).digest();
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new ProtocolError(-32602, "requestState failed the integrity check");
  return JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
}

const elicit = (message, properties, required) => ({
  method: "elicitation/create",
  params: { message, requestedSchema: { type: "object", properties, required } },
});
const sample = (text, maxTokens) => ({
  method: "sampling/createMessage",
  params: { messages: [{ role: "user", content: { type: "text", text } }], maxTokens },
});
const listRoots = { method: "roots/list", params: {} };
const ASK_NAME = elicit("What is your name?", { name: { type: "string" } }, ["name"]);

/** The capabilities the client declared: the 2026 `_meta` envelope, else the 2025 handshake. */
function clientCaps(server, ctx) {
  return ctx.mcpReq.envelope?.[CAPS_KEY] ?? server.getClientCapabilities?.() ?? {};
}

/** An answered input request: a plain object (the SDK drops malformed entries), else undefined. */
function answered(ctx, key) {
  const r = ctx.mcpReq.inputResponses?.[key];
  return r && typeof r === "object" && !Array.isArray(r) ? r : undefined;
}

/** Asks for every input in `requests` not yet answered; undefined once all are answered. */
function missing(ctx, requests, state) {
  const open = Object.fromEntries(Object.entries(requests).filter(([k]) => !answered(ctx, k)));
  if (Object.keys(open).length === 0) return undefined;
  return inputRequired({ inputRequests: open, ...(state ? { requestState: seal(state) } : {}) });
}

const samplingText = (r) =>
  typeof r?.content?.text === "string" ? r.content.text : JSON.stringify(r?.content);

/** tools/call for the input-required diagnostic tools; undefined for any other tool. */
function inputRequiredTool(server, name, ctx) {
  switch (name) {
    case "test_input_required_result_elicitation":
      return (
        missing(ctx, { user_name: ASK_NAME }) ?? text(`Hello, ${answered(ctx, "user_name").content?.name}!`)
      );
    case "test_input_required_result_sampling": {
      const ask = { capital_question: sample("What is the capital of France?", 100) };
      return missing(ctx, ask) ?? text(samplingText(answered(ctx, "capital_question")));
    }
    case "test_input_required_result_list_roots": {
      const roots = answered(ctx, "client_roots")?.roots;
      if (!Array.isArray(roots)) return inputRequired({ inputRequests: { client_roots: listRoots } });
      return text(`Client roots: ${roots.map((r) => r.uri).join(", ") || "(none)"}`);
    }
    case "test_input_required_result_request_state":
    case "test_input_required_result_tampered_state": {
      const state = unseal(ctx.mcpReq.requestState());
      const ask = { confirm: elicit("Please confirm", { ok: { type: "boolean" } }, ["ok"]) };
      if (state?.tool !== name || !answered(ctx, "confirm"))
        return inputRequired({ inputRequests: ask, requestState: seal({ tool: name, round: 1 }) });
      return text(`state-ok: confirmed=${answered(ctx, "confirm").content?.ok === true}`);
    }
    case "test_input_required_result_multiple_inputs": {
      const state = unseal(ctx.mcpReq.requestState());
      const ask = {
        user_name: ASK_NAME,
        greeting: sample("Generate a greeting", 50),
        client_roots: listRoots,
      };
      const again = missing(ctx, ask, { tool: name });
      if (again || state?.tool !== name)
        return again ?? inputRequired({ inputRequests: ask, requestState: seal({ tool: name }) });
      const roots = answered(ctx, "client_roots").roots ?? [];
      return text(
        `name=${answered(ctx, "user_name").content?.name}; greeting=${samplingText(answered(ctx, "greeting"))}; roots=${roots.length}`,
      );
    }
    case "test_input_required_result_multi_round": {
      const state = unseal(ctx.mcpReq.requestState());
      if (state?.tool === name && state.round === 1 && answered(ctx, "step1")) {
        const name1 = answered(ctx, "step1").content?.name;
        return inputRequired({
          inputRequests: {
            step2: elicit("Step 2: What is your favorite color?", { color: { type: "string" } }, ["color"]),
          },
          requestState: seal({ tool: name, round: 2, name: name1 }),
        });
      }
      if (state?.tool === name && state.round === 2 && answered(ctx, "step2"))
        return text(`${state.name} likes ${answered(ctx, "step2").content?.color}`);
      if (state?.tool === name && state.round === 2)
        return inputRequired({
          inputRequests: {
            step2: elicit("Step 2: What is your favorite color?", { color: { type: "string" } }, ["color"]),
          },
          requestState: seal(state),
        });
      return inputRequired({
        inputRequests: {
          step1: elicit("Step 1: What is your name?", { name: { type: "string" } }, ["name"]),
        },
        requestState: seal({ tool: name, round: 1 }),
      });
    }
    case "test_input_required_result_capabilities": {
      const caps = clientCaps(server, ctx);
      const ask = {
        ...(caps.elicitation ? { user_name: ASK_NAME } : {}),
        ...(caps.sampling ? { capital_question: sample("What is the capital of France?", 100) } : {}),
      };
      if (Object.keys(ask).length === 0)
        throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { sampling: {} } });
      return missing(ctx, ask) ?? text("all inputs received");
    }
    case "test_missing_capability":
      if (!clientCaps(server, ctx).sampling)
        throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { sampling: {} } });
      return text("the client declared sampling");
    case "test_streaming_elicitation":
      return (
        missing(ctx, { user_name: ASK_NAME }) ?? text(`Hello, ${answered(ctx, "user_name").content?.name}!`)
      );
    default:
      return undefined;
  }
}

/** Items the trigger tools added (process-wide: every connection and request sees them). */
const added = { tools: [], prompts: [] };
/** The HTTP entry's handler once serving HTTP: its `notify` reaches open subscriptions/listen streams. */
let httpHandler;

/** Announces a list change: to listen streams over HTTP, on the connection over stdio. */
function listChanged(server, kind) {
  if (httpHandler) {
    if (kind === "tools") httpHandler.notify.toolsChanged();
    else httpHandler.notify.promptsChanged();
  } else if (kind === "tools") void server.sendToolListChanged().catch(() => {});
  else void server.sendPromptListChanged().catch(() => {});
}

function createFixture() {
  const server = new Server(
    { name: "portcullis-conformance-fixture-2026", version: "1.0.0" },
    {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: {},
        completions: {},
        logging: {},
        extensions: { [TASKS_EXTENSION]: {} },
      },
    },
  );
  registerTaskHandlers(server);
  server.setRequestHandler("tools/list", async () => ({ tools: [...TOOLS, ...added.tools], ...cache }));
  server.setRequestHandler("tools/call", async (req, ctx) => {
    if (req.params.name === "test_tool_with_progress")
      return progressTool(req.params._meta?.progressToken, (n) => ctx.mcpReq.notify(n));
    if (req.params.name === "test_trigger_tool_change" || req.params.name === "test_trigger_prompt_change") {
      const kind = req.params.name === "test_trigger_tool_change" ? "tools" : "prompts";
      const n = added[kind].length + 1;
      added[kind].push(
        kind === "tools"
          ? { name: `test_added_tool_${n}`, description: "Added at run time", inputSchema: noArgs }
          : { name: `test_added_prompt_${n}`, description: "Added at run time" },
      );
      listChanged(server, kind);
      return { content: [{ type: "text", text: `added ${kind} item ${n}` }] };
    }
    if (req.params.name === "test_logging_tool") {
      // The SDK drops these unless the request (or a 2025 logging/setLevel) asked for the level.
      await ctx.mcpReq.log("info", "test_logging_tool: started");
      await ctx.mcpReq.log("info", "test_logging_tool: finished");
      return { content: [{ type: "text", text: "logged two messages" }] };
    }
    return (
      taskToolCall(req.params.name, req.params.arguments ?? {}, ctx) ??
      inputRequiredTool(server, req.params.name, ctx) ??
      callTool(req.params.name, req.params.arguments ?? {})
    );
  });
  server.setRequestHandler("resources/list", async () => ({
    resources: resourceList("A resource to watch"),
    ...cache,
  }));
  server.setRequestHandler("resources/templates/list", async () => ({
    resourceTemplates: RESOURCE_TEMPLATES,
    ...cache,
  }));
  server.setRequestHandler("resources/read", async (req) => ({ ...readResource(req.params.uri), ...cache }));
  server.setRequestHandler("prompts/list", async () => ({
    prompts: [
      ...PROMPTS,
      { name: "test_input_required_result_prompt", description: "A prompt that asks for context first" },
      ...added.prompts,
    ],
    ...cache,
  }));
  server.setRequestHandler("prompts/get", async (req, ctx) => {
    if (req.params.name === "test_input_required_result_prompt") {
      const ask = {
        user_context: elicit("What context should the prompt use?", { context: { type: "string" } }, [
          "context",
        ]),
      };
      const again = missing(ctx, ask);
      if (again) return again;
      const context = answered(ctx, "user_context").content?.context;
      return {
        messages: [{ role: "user", content: { type: "text", text: `Use this context: ${context}` } }],
      };
    }
    return getPrompt(req.params.name, req.params.arguments ?? {});
  });
  server.setRequestHandler("completion/complete", async (req) => complete(req.params.argument.value ?? ""));
  return server;
}

/**
 * SEP-2243: a tools/call whose tool mirrors parameters in `Mcp-Param-*` headers must carry each
 * such header, equal to the body's value (`=?base64?...?=` decoded strictly, anything else
 * literal). Returns the JSON-RPC error to send with HTTP 400, or undefined when the request is fine.
 */
function paramHeaderFault(message, headers) {
  if (message?.method !== "tools/call") return undefined;
  const tool = TOOLS.find((t) => t.name === message.params?.name);
  const args = message.params?.arguments ?? {};
  for (const [param, schema] of Object.entries(tool?.inputSchema.properties ?? {})) {
    const header = schema["x-mcp-header"];
    if (header === undefined || args[param] === undefined) continue;
    const raw = headers[`mcp-param-${header.toLowerCase()}`];
    const fault = (why) => ({
      jsonrpc: "2.0",
      id: message.id ?? null,
      error: { code: -32020, message: `Header mismatch: Mcp-Param-${header} ${why}` },
    });
    if (typeof raw !== "string") return fault("is missing");
    const m = /^=\?base64\?(.*)\?=$/.exec(raw);
    let value = raw;
    if (m) {
      const b64 = m[1];
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return fault("is not valid Base64");
      value = Buffer.from(b64, "base64").toString("utf8");
    }
    if (value !== String(args[param])) return fault(`does not match the body's ${param}`);
  }
  return undefined;
}

const argv = process.argv.slice(2);
if (argv.includes("--stdio")) {
  serveStdio(() => createFixture());
} else {
  const handler = createMcpHandler(() => createFixture(), { legacy: "reject" });
  httpHandler = handler;
  const http = createServer(async (req, res) => {
    const host = req.headers.host ?? "";
    if (!/^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host)) {
      res.writeHead(403).end();
      return;
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    let message;
    try {
      message = body ? JSON.parse(body.toString("utf8")) : undefined;
    } catch {
      message = undefined; // the SDK handler answers the parse error
    }
    const headerFault = paramHeaderFault(message, req.headers);
    if (headerFault) {
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify(headerFault));
      return;
    }
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
