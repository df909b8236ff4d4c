/**
 * Built-in capabilities (the native workspace and memory tools) as registry sources. They offer
 * tools only; prompts, resources and completions are empty. Calls run in-process with the call's
 * abort signal.
 */
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { PortcullisError } from "../errors.js";
import type { CapabilitySource, SourceCallOptions } from "./source.js";

/** One built-in server as the native adapters describe it. */
export interface BuiltinServer {
  name: string;
  tools: Tool[];
  call(toolName: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult>;
}

export class BuiltinSource implements CapabilitySource {
  readonly name: string;
  readonly prefix: string;
  private readonly server: BuiltinServer;

  constructor(server: BuiltinServer, prefix = `${server.name}__`) {
    this.server = server;
    this.name = server.name;
    this.prefix = prefix;
  }

  setEvents(): void {}

  async listTools(): Promise<Tool[]> {
    return this.server.tools;
  }

  async callTool(
    name: string,
    args: Record<string, unknown>,
    opts: SourceCallOptions,
  ): Promise<CallToolResult> {
    if (!this.server.tools.some((t) => t.name === name))
      throw new PortcullisError("GW_ERR_NOT_FOUND", `unknown tool '${name}' in '${this.name}'`);
    return this.server.call(name, args, opts.signal);
  }

  async listPrompts() {
    return [];
  }

  async getPrompt(name: string): Promise<never> {
    throw new PortcullisError("GW_ERR_NOT_FOUND", `unknown prompt '${name}'`);
  }

  async listResources() {
    return [];
  }

  async listResourceTemplates() {
    return [];
  }

  async readResource(uri: string): Promise<never> {
    throw new PortcullisError("GW_ERR_NOT_FOUND", `unknown resource '${uri}'`);
  }

  async complete() {
    return { completion: { values: [] } };
  }

  async close(): Promise<void> {}
}
