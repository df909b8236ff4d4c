/**
 * Registry aggregation with in-process sources: prefixes (including an empty one), refusal of a
 * colliding name, shortening past 64 characters, resource routing by URI and template, caching
 * until a source reports list_changed, and a failing source left out rather than failing the list.
 */
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { PortcullisError } from "../errors.js";
import { Registry } from "./registry.js";
import type { CapabilitySource, SourceEvents } from "./source.js";

/** A small in-memory capability source with a mutable tool list. */
class TableSource implements CapabilitySource {
  events: SourceEvents = {};
  lists = 0;
  constructor(
    readonly name: string,
    readonly prefix: string,
    public tools: string[],
    readonly resources: string[] = [],
    readonly templates: string[] = [],
    readonly broken = false,
  ) {}
  setEvents(e: SourceEvents) {
    this.events = e;
  }
  async listTools(): Promise<Tool[]> {
    this.lists++;
    if (this.broken) throw new PortcullisError("GW_ERR_UPSTREAM_UNAVAILABLE", "down");
    return this.tools.map((name) => ({ name, inputSchema: { type: "object" as const } }));
  }
  async callTool(name: string) {
    return { content: [{ type: "text" as const, text: `${this.name}:${name}` }] };
  }
  async listPrompts() {
    return [];
  }
  async getPrompt(): Promise<never> {
    throw new Error("none");
  }
  async listResources() {
    return this.resources.map((uri) => ({ uri, name: uri }));
  }
  async listResourceTemplates() {
    return this.templates.map((uriTemplate) => ({ uriTemplate, name: uriTemplate }));
  }
  async readResource(uri: string) {
    return { contents: [{ uri, text: this.name }] };
  }
  async complete() {
    return { completion: { values: [] } };
  }
  async close() {}
}

describe("Registry", () => {
  it("prefixes names, allows an empty prefix and refuses a collision", async () => {
    const a = new TableSource("a", "a__", ["read", "write"]);
    const plain = new TableSource("plain", "", ["a__read", "search"]);
    const reg = new Registry([a, plain]);
    const names = (await reg.listTools()).map((t) => t.tool.name);
    expect(names).toEqual(["a__read", "a__write", "search"]);
    expect(reg.warnings.some((w) => w.source === "plain" && w.message.includes("a__read"))).toBe(true);
    const entry = await reg.resolveTool("search");
    expect(entry.source).toBe(plain);
    expect(entry.definition.name).toBe("search");
    await expect(reg.resolveTool("nope")).rejects.toMatchObject({ code: "GW_ERR_NOT_FOUND" });
  });

  it("shortens long qualified names and resolves them back to the source's own name", async () => {
    const long = `tool_${"x".repeat(80)}`;
    const reg = new Registry([new TableSource("srv", "srv__", [long])]);
    const [entry] = await reg.listTools();
    expect(entry!.tool.name.length).toBeLessThanOrEqual(64);
    expect((await reg.resolveTool(entry!.tool.name)).definition.name).toBe(long);
  });

  it("caches lists until the source reports list_changed, and tells listeners", async () => {
    const s = new TableSource("s", "s__", ["one"]);
    const reg = new Registry([s]);
    const changes: string[] = [];
    reg.onListChanged((k) => changes.push(k));
    await reg.listTools();
    await reg.listTools();
    expect(s.lists).toBe(1);
    s.tools = ["one", "two"];
    s.events.onListChanged?.("tools");
    expect(changes).toEqual(["tools"]);
    expect((await reg.listTools()).map((t) => t.tool.name)).toEqual(["s__one", "s__two"]);
    expect(s.lists).toBe(2);
  });

  it("resolves tools from one index per generation, rebuilt after list_changed", async () => {
    const s = new TableSource("s", "s__", ["one"]);
    const reg = new Registry([s]);
    const first = await reg.resolveTool("s__one");
    first.definitionHash = "memo";
    expect(await reg.resolveTool("s__one")).toBe(first);
    expect(s.lists).toBe(1);
    // A change while a listing is in flight: the stale build is not kept.
    const inflight = reg.listTools();
    s.tools = ["one", "two"];
    s.events.onListChanged?.("tools");
    await inflight;
    const again = await reg.resolveTool("s__two");
    expect(again.definition.name).toBe("two");
    const renewed = await reg.resolveTool("s__one");
    expect(renewed).not.toBe(first);
    expect(renewed.definitionHash).toBeUndefined();
    const listed = await reg.listTools();
    listed.pop();
    expect((await reg.listTools()).length).toBe(2);
  });

  it("answers toolEntryNow from the built index only, never from a stale or unfinished one", async () => {
    const s = new TableSource("s", "s__", ["one"]);
    const reg = new Registry([s]);
    expect(reg.toolEntryNow("s__one")).toBeUndefined(); // nothing built yet
    const first = await reg.resolveTool("s__one");
    expect(reg.toolEntryNow("s__one")).toBe(first);
    expect(reg.toolEntryNow("s__none")).toBeUndefined();
    s.tools = ["two"];
    s.events.onListChanged?.("tools");
    expect(reg.toolEntryNow("s__one")).toBeUndefined(); // invalidated: only resolveTool may answer
    const pending = reg.resolveTool("s__two");
    expect(reg.toolEntryNow("s__two")).toBeUndefined(); // still building
    const two = await pending;
    expect(reg.toolEntryNow("s__two")).toBe(two);
    expect(reg.toolEntryNow("s__one")).toBeUndefined();
    // A build that saw a failing source is not kept, so it is not answered synchronously either.
    const broken = new TableSource("b", "b__", ["x"], [], [], true);
    const partial = new Registry([s, broken]);
    await partial.resolveTool("s__two");
    expect(partial.toolEntryNow("s__two")).toBeUndefined();
  });

  it("leaves a failing source out and retries it next time", async () => {
    const ok = new TableSource("ok", "ok__", ["t"]);
    const down = new TableSource("down", "down__", ["t"], [], [], true);
    const reg = new Registry([ok, down]);
    expect((await reg.listTools()).map((t) => t.tool.name)).toEqual(["ok__t"]);
    await reg.listTools();
    expect(down.lists).toBe(2);
  });

  it("routes resources by listed URI, then by template", async () => {
    const files = new TableSource("files", "files__", [], ["file:///a.txt"], ["file:///docs/{name}"]);
    const db = new TableSource("db", "db__", [], ["db://t/1"], ["db://t/{id}"]);
    const reg = new Registry([files, db]);
    expect((await reg.resolveResource("db://t/1")).source).toBe(db);
    expect((await reg.resolveResource("file:///docs/x.md")).source).toBe(files);
    expect((await reg.resolveResource("db://t/42")).source).toBe(db);
    await expect(reg.resolveResource("other://x")).rejects.toMatchObject({ code: "GW_ERR_NOT_FOUND" });
  });
});
