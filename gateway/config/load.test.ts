import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import { loadConfig } from "./load.js";

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "pc-config-"));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe("loadConfig", () => {
  it("falls back to the embedded default when no file exists", () => {
    const dir = mkdtempSync(join(tmpdir(), "pc-empty-"));
    const { config, file } = loadConfig(undefined, dir);
    expect(file).toBeUndefined();
    expect(config.server.host).toBe("127.0.0.1");
    expect(config.audit.sync).toBe("group");
  });

  it("accepts a Claude-Desktop-style mcpServers block in YAML", () => {
    const f = tmpFile(
      "portcullis.yaml",
      "mcpServers:\n  everything:\n    command: npx\n    args: [server-everything]\n",
    );
    const { config } = loadConfig(f);
    expect(config.mcpServers["everything"]?.command).toBe("npx");
    expect(config.mcpServers["everything"]?.timeoutMs).toBe(60_000);
  });

  it("names the file, the path inside it and the expectation", () => {
    const f = tmpFile(
      "bad.json",
      JSON.stringify({ server: { port: "x" }, auth: { apiKeys: [{ id: "a", key: "literal" }] } }),
    );
    let err: unknown;
    try {
      loadConfig(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain(f);
    expect(msg).toContain("at server.port: Invalid input: expected number");
    expect(msg).toContain("at auth.apiKeys[0].key:");
    expect(msg).toContain("env:NAME");
  });

  it("reports unparseable files with their name", () => {
    const f = tmpFile("broken.json", "{ nope");
    expect(() => loadConfig(f)).toThrow(/cannot parse .*broken\.json/);
  });
});
