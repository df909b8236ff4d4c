import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PolicyInput } from "../contracts/index.js";
import { validateConfig } from "../gateway/config/load.js";
import { decisionServiceFromConfig } from "./from-config.js";

const destructive = {
  v: 1,
  action: "tools/call",
  principal: { id: "alice", roles: [], authenticated: true, via: "api_key" },
  target: { kind: "tool", name: "shell__exec", annotations: { destructiveHint: true } },
  arguments: {},
  data_classes: [],
  context: { time: "2026-11-24T10:00:00Z", request_id: "r", transport: "http" },
} as PolicyInput;

describe("decisionServiceFromConfig", () => {
  it("uses the default bundle and data when the config says nothing", async () => {
    const svc = await decisionServiceFromConfig(validateConfig({}, "<test>").policy, tmpdir());
    expect((await svc.decide(destructive)).decision).toBe("ask_user");
  });

  it("resolves a data file against the config folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "portcullis-cfg-"));
    const settings = { rules: [{ id: "no", effect: "deny", names: ["shell__*"] }] };
    writeFileSync(join(dir, "data.json"), JSON.stringify({ portcullis: { settings } }));
    const config = validateConfig({ policy: { data: "data.json", engine: "ts", cacheSize: 0 } }, "<test>");
    const svc = await decisionServiceFromConfig(config.policy, dir);
    const d = await svc.decide(destructive);
    expect(d.reasons.map((r) => r.code)).toEqual(["DENIED_BY_RULE"]);
    expect(svc.revision).toMatch(/\+data\./);
  });

  it("a missing or invalid data file is a configuration error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "portcullis-cfg-"));
    const missing = validateConfig({ policy: { data: "nope.json" } }, "<test>");
    await expect(decisionServiceFromConfig(missing.policy, dir)).rejects.toMatchObject({
      code: "GW_ERR_CONFIG",
    });
    writeFileSync(join(dir, "bad.json"), "{nope");
    const bad = validateConfig({ policy: { data: "bad.json" } }, "<test>");
    await expect(decisionServiceFromConfig(bad.policy, dir)).rejects.toMatchObject({ code: "GW_ERR_CONFIG" });
  });

  it("a bundle path that does not exist denies with POLICY_NO_BUNDLE", async () => {
    const config = validateConfig({ policy: { bundle: "missing.tar.gz" } }, "<test>");
    const svc = await decisionServiceFromConfig(config.policy, tmpdir());
    expect((await svc.decide(destructive)).reasons[0]?.code).toBe("POLICY_NO_BUNDLE");
  });
});
