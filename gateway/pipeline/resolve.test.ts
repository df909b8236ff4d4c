/**
 * The resolve stage: the policy target of a tool call carries the pin state and the tool's
 * annotations with every member in canonical order (so the records that embed it seal with one
 * JSON.stringify), from a built registry index without waiting, and after a list change from the
 * rebuilt one; an unknown tool is GW_ERR_NOT_FOUND.
 */
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { isCanonicallyOrdered } from "../../native/fallback/canonical.js";
import { digest } from "../../native/index.js";
import { Registry } from "../registry/registry.js";
import type { CapabilitySource, SourceEvents } from "../registry/source.js";
import type { CallContext } from "./context.js";
import { pinnedDefinition, resolve, sortedMembers } from "./resolve.js";

function source(tools: Tool[]): CapabilitySource & { events: SourceEvents; tools: Tool[] } {
  return {
    name: "up",
    prefix: "",
    events: {},
    tools,
    setEvents(e) {
      this.events = e;
    },
    async listTools() {
      return this.tools;
    },
    async callTool() {
      return { content: [] };
    },
    async listPrompts() {
      return [];
    },
    async getPrompt(): Promise<never> {
      throw new Error("none");
    },
    async listResources() {
      return [];
    },
    async listResourceTemplates() {
      return [];
    },
    async readResource(): Promise<never> {
      throw new Error("none");
    },
    async complete() {
      return { completion: { values: [] } };
    },
    async close() {},
  };
}

const tool: Tool = {
  name: "echo",
  inputSchema: { type: "object" },
  annotations: { title: "Echo", readOnlyHint: true, destructiveHint: false },
};

const call = (name: string) => ({ action: "tools/call", name }) as CallContext;

describe("resolve", () => {
  it("sortedMembers keeps an ordered object and sorts a copy of any other", () => {
    const ordered = { a: 1, b: { z: 1, y: 2 } };
    expect(sortedMembers(ordered)).toBe(ordered);
    const mixed = { b: 1, a: 2, "10": 3 };
    const sorted = sortedMembers(mixed);
    expect(Object.keys(sorted)).toEqual(["10", "a", "b"]);
    expect(mixed).toEqual({ b: 1, a: 2, "10": 3 }); // the original is untouched
  });

  it("builds a canonically ordered target with the pin state, from the built index", async () => {
    const s = source([tool]);
    const registry = new Registry([s]);
    const seen: Array<{ tool: string; hash: string }> = [];
    const pins = {
      check: () => ({ hash: "x", changed: false, pinned: true }),
      checkHash: (t: string, hash: string) => {
        seen.push({ tool: t, hash });
        return { hash, changed: true, pinned: true };
      },
    };
    const stage = resolve(registry, pins);
    let nexts = 0;
    const next = async () => {
      nexts++;
    };
    const first = call("echo");
    await stage(first, next);
    const second = call("echo");
    const pending = stage(second, next);
    // The index is built: the second call is resolved before its promise is even awaited.
    expect(second.target).toBeDefined();
    await pending;
    expect(nexts).toBe(2);
    const hash = digest(pinnedDefinition(tool));
    expect(seen).toEqual([
      { tool: "echo", hash },
      { tool: "echo", hash },
    ]);
    expect(second.target).toEqual({
      annotations: { destructiveHint: false, readOnlyHint: true, title: "Echo" },
      changed: true,
      definition_hash: hash,
      kind: "tool",
      name: "echo",
      server: "up",
    });
    expect(isCanonicallyOrdered(second.target)).toBe(true);
    expect(second.sourceName).toBe("echo");
    // The definition keeps the upstream's own member order.
    expect(Object.keys(second.definition!.annotations!)).toEqual([
      "title",
      "readOnlyHint",
      "destructiveHint",
    ]);
  });

  it("resolves from the rebuilt index after a list change, and refuses an unknown tool", async () => {
    const s = source([tool]);
    const registry = new Registry([s]);
    const stage = resolve(registry, undefined);
    const next = async () => {};
    await stage(call("echo"), next);
    s.tools = [{ name: "other", inputSchema: { type: "object" } }];
    s.events.onListChanged?.("tools");
    const ctx = call("other");
    await stage(ctx, next);
    expect(ctx.target).toEqual({
      changed: false,
      definition_hash: digest(pinnedDefinition(s.tools[0]!)),
      kind: "tool",
      name: "other",
      server: "up",
    });
    await expect(stage(call("echo"), next)).rejects.toMatchObject({ code: "GW_ERR_NOT_FOUND" });
  });
});
