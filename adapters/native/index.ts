/**
 * Built-in capabilities served by the gateway itself: the `workspace` server (list, read, search
 * inside the configured roots) and the `memory` server (upsert, query over the vector index).
 * Tools carry unprefixed names; the registry shows them as `<server>__<tool>`. Each call returns
 * an MCP CallToolResult with structuredContent and a JSON text rendering; failures (path escape,
 * bad arguments, limits) come back as `isError: true` with a message naming the cause.
 */
import { isAbsolute, resolve } from "node:path";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import type { PortcullisConfig } from "../../gateway/config/schema.js";
import { errorMessage, isPortcullisError } from "../../gateway/errors.js";
import { Workspace } from "../../native/fallback/workspace.js";
import { listFiles, readFile, searchFiles } from "../../native/index.js";
import { LexicalEmbedder } from "./embedder.js";
import { MemoryStore } from "./memory.js";
import { memoryTools, workspaceTools } from "./tools.js";

export type { Embedder } from "./embedder.js";
export { LexicalEmbedder } from "./embedder.js";
export { MemoryStore } from "./memory.js";

/** One built-in MCP server. */
export interface BuiltinServer {
  name: "workspace" | "memory";
  tools: Tool[];
  call(toolName: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult>;
}

export interface BuiltinCapabilities {
  servers: BuiltinServer[];
}

function ok(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(structured) }], structuredContent: structured };
}

function failure(e: unknown): CallToolResult {
  const code = isPortcullisError(e) ? e.code : "GW_ERR_INTERNAL";
  return { content: [{ type: "text", text: `${code}: ${errorMessage(e)}` }], isError: true };
}

async function guarded(
  run: () => Promise<Record<string, unknown>> | Record<string, unknown>,
): Promise<CallToolResult> {
  try {
    return ok(await run());
  } catch (e) {
    return failure(e);
  }
}

/** Builds the built-in servers from the configuration; relative paths resolve against baseDir. */
export function createBuiltinCapabilities(
  config: PortcullisConfig,
  opts: { baseDir?: string } = {},
): BuiltinCapabilities {
  const baseDir = opts.baseDir ?? process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const workspace = new Workspace(config.workspace.roots.map(abs), {
    maxReadBytes: config.workspace.maxReadBytes,
    searcher: searchFiles,
    lister: listFiles,
    reader: readFile,
  });
  const embedder = new LexicalEmbedder(config.memory.dimensions);
  let memory: MemoryStore | undefined;
  const memoryStore = () => {
    memory ??= MemoryStore.open(abs(config.memory.file), embedder);
    return memory;
  };

  const ws = workspaceTools();
  const mem = memoryTools();
  return {
    servers: [
      {
        name: "workspace",
        tools: ws.tools,
        call: (toolName, args, signal) =>
          guarded(async () => {
            switch (toolName) {
              case "list": {
                const a = ws.parse.list(args);
                return { ...(await workspace.list(a.path, a.depth, a.limit)) };
              }
              case "read": {
                const a = ws.parse.read(args);
                return { ...(await workspace.read(a.path, a.offset, a.length)) };
              }
              case "search": {
                const a = ws.parse.search(args);
                return { ...(await workspace.search({ ...a, ...(signal ? { signal } : {}) })) };
              }
              default:
                throw new Error(`unknown workspace tool ${toolName}`);
            }
          }),
      },
      {
        name: "memory",
        tools: mem.tools,
        call: (toolName, args) =>
          guarded(async () => {
            switch (toolName) {
              case "upsert":
                return { ...(await memoryStore().upsert(mem.parse.upsert(args))) };
              case "query": {
                const results = await memoryStore().query(mem.parse.query(args));
                return { results };
              }
              default:
                throw new Error(`unknown memory tool ${toolName}`);
            }
          }),
      },
    ],
  };
}
