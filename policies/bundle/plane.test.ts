import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../gateway/config/load.js";
import { aliceReads, makeBundle, verificationKey } from "./fixtures/bundles.js";
import { startPolicyPlane } from "./plane.js";

const scratch = mkdtempSync(join(tmpdir(), "portcullis-plane-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("startPolicyPlane", () => {
  it("wires a watched file source, keys by reference and a decision-log file from config", async () => {
    writeFileSync(join(scratch, "release.pub"), verificationKey.key);
    writeFileSync(join(scratch, "policy.tar.gz"), makeBundle({ revision: "plane-1", sign: true }));
    const config = validateConfig({
      dataDir: "state",
      policy: {
        source: {
          file: "policy.tar.gz",
          keys: { release: { key: "file:release.pub", algorithm: "RS256" } },
        },
        decisionLogs: { file: "decisions.jsonl", labels: { site: "test" } },
      },
    });
    const plane = await startPolicyPlane(config, scratch);
    try {
      expect(plane.service.revision).toBe("plane-1");
      const d = await plane.service.decide(aliceReads);
      writeFileSync(join(scratch, "policy.tar.gz"), makeBundle({ revision: "plane-2", sign: true }));
      const end = Date.now() + 5000;
      while (plane.service.revision !== "plane-2" && Date.now() < end)
        await new Promise((r) => setTimeout(r, 25));
      expect(plane.service.revision).toBe("plane-2");
      await plane.decisionLog?.close();
      const event = JSON.parse(
        readFileSync(join(scratch, "decisions.jsonl"), "utf8").split("\n")[0] as string,
      );
      expect(event).toMatchObject({ decision_id: d.decision_id, labels: { site: "test" } });
      expect(readFileSync(join(scratch, "state/bundles/portcullis/last-good.tar.gz")).length).toBeGreaterThan(
        0,
      );
    } finally {
      await plane.close();
    }
  });

  it("rejects a source with both or neither of file and service", () => {
    expect(() => validateConfig({ policy: { source: { keys: {} } } })).toThrow(
      /exactly one of 'file' or 'service'/,
    );
  });
});
