import { describe, expect, it } from "vitest";
import { isoNow, ManualClock, systemClock } from "./clock.js";

describe("isoNow", () => {
  it("is the system clock's time as ISO text, made afresh when the millisecond changes", async () => {
    const before = Date.now();
    const first = isoNow(systemClock);
    expect(Date.parse(first)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(first)).toBeLessThanOrEqual(Date.now());
    expect(first).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = isoNow(systemClock);
    expect(Date.parse(later)).toBeGreaterThan(Date.parse(first));
  });

  it("asks any other clock every time", () => {
    const clock = new ManualClock("2026-11-25T10:00:00.000Z");
    expect(isoNow(clock)).toBe("2026-11-25T10:00:00.000Z");
    clock.advance(0.4);
    clock.advance(1);
    expect(isoNow(clock)).toBe("2026-11-25T10:00:00.001Z");
  });
});
