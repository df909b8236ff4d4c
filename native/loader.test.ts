import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  vi.resetModules();
});

describe("native loader", () => {
  it("uses the fallback, silently, when PORTCULLIS_NATIVE=0", async () => {
    vi.stubEnv("PORTCULLIS_NATIVE", "0");
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const loader = await import("./loader.js");
    expect(loader.loadNative()).toBeNull();
    expect(loader.nativeStatus()).toEqual({ implementation: "fallback", reason: "PORTCULLIS_NATIVE=0" });
    expect(write).not.toHaveBeenCalled();
    const index = await import("./index.js");
    expect(index.core.implementation).toBe("fallback");
  });

  it("loads the local build otherwise", async () => {
    vi.stubEnv("PORTCULLIS_NATIVE", "1");
    const loader = await import("./loader.js");
    const status = loader.nativeStatus();
    expect(status.implementation).toBe("native");
    expect(status.path).toMatch(/portcullis\.node$/);
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("collects every failed attempt into one message and warns once", async () => {
    const bad = join(tmpdir(), `portcullis-bad-${process.pid}.node`);
    writeFileSync(bad, "not a shared object");
    vi.stubEnv("PORTCULLIS_NATIVE", "1");
    vi.stubEnv("PORTCULLIS_NATIVE_PATH", bad);
    const loader = await import("./loader.js");
    const result = loader.loadAddon([join(tmpdir(), "portcullis-missing.node"), bad]);
    expect(result.binding).toBeNull();
    expect(result.status.reason).toContain("portcullis-missing.node: not found");
    expect(result.status.reason).toContain(`${bad}:`);

    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(loader.loadNative()).toBeNull();
    expect(loader.loadNative()).toBeNull();
    expect(loader.nativeStatus().implementation).toBe("fallback");
    expect(write).toHaveBeenCalledTimes(1);
    expect(String(write.mock.calls[0]?.[0])).toMatch(
      /native core unavailable, using the TypeScript fallbacks \(.*portcullis-bad/,
    );
  });
});
