/**
 * Stored API keys: the key file (digest only, mode 0600, atomic rewrite), the authenticator
 * accepting active stored keys and refusing revoked ones, a running gateway's REST API seeing a
 * key created after start, and the `portcullis keys` CLI (built dist, real process).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../gateway/config/load.js";
import { createAuthenticator } from "../../gateway/pipeline/authenticate.js";
import { createApp } from "../commands/serve.js";
import { createRuntime } from "../runtime.js";
import { createServices } from "../services.js";
import { createKey, keyDigest, readKeyFile, revokeKey, watchStoredKeys } from "./key-store.js";

const scratch = mkdtempSync(join(tmpdir(), "portcullis-keys-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("key file", () => {
  it("stores only the digest, mode 0600, and refuses a second active key per id", () => {
    const file = join(scratch, "a", "keys.json");
    const { key, record } = createKey(file, { id: "ci-bot", roles: ["user"], scopes: ["tools:call"] });
    expect(key).toMatch(/^pck_[A-Za-z0-9_-]{43}$/);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(key);
    expect(text).toContain(keyDigest(key));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(record).toMatchObject({ id: "ci-bot", roles: ["user"], scopes: ["tools:call"] });
    expect(() => createKey(file, { id: "ci-bot" })).toThrow(/exists/);
    expect(revokeKey(file, "ci-bot")).toBe(true);
    expect(revokeKey(file, "ci-bot")).toBe(false);
    expect(readKeyFile(file)[0]?.revoked_at).toBeDefined();
    expect(createKey(file, { id: "ci-bot" }).key).not.toBe(key);
  });

  it("rejects malformed ids and malformed files", () => {
    const file = join(scratch, "b", "keys.json");
    expect(() => createKey(file, { id: "bad id with spaces" })).toThrow(/malformed/);
    mkdirSync(join(scratch, "b"), { recursive: true });
    writeFileSync(file, JSON.stringify({ v: 1, keys: [{ id: "x" }] }));
    expect(() => readKeyFile(file)).toThrow(/key file/);
  });

  it("authenticates active stored keys, refuses revoked ones and fails closed on a broken file", () => {
    const file = join(scratch, "c", "keys.json");
    const { key } = createKey(file, { id: "agent-7", roles: ["user", "approver"] });
    const authenticate = createAuthenticator({
      apiKeys: [{ id: "conf", key: "configured-key-0123456789", roles: [] }],
      storedKeys: watchStoredKeys(file, 0),
      stdioPrincipal: "me",
      stdioRoles: [],
    });
    expect(authenticate({ kind: "http", bearer: key })).toEqual({
      id: "agent-7",
      roles: ["user", "approver"],
      authenticated: true,
      via: "api_key",
    });
    expect(authenticate({ kind: "http", bearer: "configured-key-0123456789" }).id).toBe("conf");
    expect(() => authenticate({ kind: "http", bearer: `${key}x` })).toThrow(/invalid API key/);
    revokeKey(file, "agent-7");
    expect(() => authenticate({ kind: "http", bearer: key })).toThrow(/invalid API key/);
    const { key: again } = createKey(file, { id: "agent-7" });
    expect(authenticate({ kind: "http", bearer: again }).id).toBe("agent-7");
    writeFileSync(file, "{ not json");
    expect(() => authenticate({ kind: "http", bearer: again })).toThrow(/invalid API key/);
  });
});

describe("stored keys in the gateway", () => {
  it("a key created after start authenticates REST calls; revoked, it is refused", async () => {
    const dir = mkdtempSync(join(scratch, "gw-"));
    const config = validateConfig({ dataDir: "state", workspace: { roots: ["."] }, audit: { dir: "audit" } });
    const services = await createServices(config, dir);
    const runtime = createRuntime(config, dir, services);
    const app = createApp({ runtime, services });
    try {
      const get = (key: string) =>
        app.app.request("http://127.0.0.1/v1/tools", { headers: { authorization: `Bearer ${key}` } });
      const file = join(dir, "state", "keys.json");
      const { key } = createKey(file, { id: "late-agent", roles: ["user"] });
      await new Promise((r) => setTimeout(r, 250));
      expect((await get(key)).status).toBe(200);
      revokeKey(file, "late-agent");
      await new Promise((r) => setTimeout(r, 250));
      expect((await get(key)).status).toBe(401);
    } finally {
      await app.close();
      await runtime.close();
    }
  });
});

describe("portcullis keys (CLI)", () => {
  const bin = join(import.meta.dirname, "../../bin/portcullis.js");
  const run = (args: string[], cwd: string) =>
    spawnSync(process.execPath, [bin, "keys", ...args, "--config", "portcullis.yaml"], {
      cwd,
      encoding: "utf8",
      timeout: 20_000,
    });

  it("creates (key printed once), lists without secrets and revokes", () => {
    const dir = mkdtempSync(join(scratch, "cli-"));
    writeFileSync(join(dir, "portcullis.yaml"), "dataDir: state\n");
    const created = run(["create", "--id", "ops", "--role", "admin", "--scope", "policy:admin"], dir);
    expect(created.stderr).toContain("shown only now");
    expect(created.status).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^pck_/);
    const listed = run(["list", "--json"], dir);
    expect(listed.status).toBe(0);
    expect(listed.stdout).not.toContain(key);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      id: "ops",
      roles: ["admin"],
      scopes: ["policy:admin"],
    });
    expect(JSON.parse(listed.stdout).sha256).toBeUndefined();
    expect(run(["revoke", "--id", "ops"], dir).status).toBe(0);
    expect(run(["revoke", "--id", "ops"], dir).status).toBe(1);
    expect(run(["list", "--json"], dir).stdout).toBe("");
    expect(run(["create"], dir).status).not.toBe(0);
  });
});
