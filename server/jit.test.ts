import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jitFlags } from "./jit.js";

const root = join(import.meta.dirname, "..");
const bin = join(root, "bin/portcullis.js");
const node22 = join(root, "node_modules/node22/bin/node");

describe("jit tuning", () => {
  it("lowers the interrupt budget on V8 11 (Node 20) only", () => {
    expect(jitFlags("11.3.244.8-node.38")).toEqual(["--interrupt-budget=16384"]);
    expect(jitFlags("12.4.254.21-node.57")).toEqual([]);
    expect(jitFlags("13.6.233.10-node.24")).toEqual([]);
    expect(jitFlags("")).toEqual([]);
  });

  it("is a flag this process's V8 accepts, and the CLI starts without a word on stderr", () => {
    for (const flag of jitFlags(process.versions.v8)) {
      const r = spawnSync(process.execPath, [flag, "-e", "0"], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
    const r = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" });
    expect(r.stdout).toBe("portcullis 0.1.0\n");
    expect(r.stderr).toBe("");
  });

  it.runIf(existsSync(node22))("sets nothing on Node 22 (no unknown-flag error)", () => {
    expect(execFileSync(node22, ["-p", "process.versions.v8"], { encoding: "utf8" })).toMatch(/^12\./);
    const r = spawnSync(node22, [bin, "--version"], { encoding: "utf8" });
    expect(r.stdout).toBe("portcullis 0.1.0\n");
    expect(r.stderr).toBe("");
  });
});
