/**
 * `compose`: stages run in order around `next`, code after `next` runs after the rest of the
 * chain, a stage that skips `next` ends the chain, and a rejection or a synchronous throw of any
 * stage reaches the caller (through the stages wrapped around it).
 */
import { describe, expect, it } from "vitest";
import type { CallContext, Stage } from "./context.js";
import { compose } from "./pipeline.js";

const ctx = {} as CallContext; // compose never reads the context; stages here ignore it

describe("compose", () => {
  it("runs stages in order, unwinding after next", async () => {
    const log: string[] = [];
    const stage =
      (name: string): Stage =>
      async (_c, next) => {
        log.push(`${name} in`);
        await next();
        log.push(`${name} out`);
      };
    await compose([stage("a"), stage("b"), stage("c")])(ctx);
    expect(log).toEqual(["a in", "b in", "c in", "c out", "b out", "a out"]);
    await expect(compose([])(ctx)).resolves.toBeUndefined();
  });

  it("stops where a stage does not call next", async () => {
    const log: string[] = [];
    await compose([
      async (_c, next) => {
        log.push("a");
        await next();
      },
      async () => {
        log.push("b");
      },
      async () => {
        log.push("never");
      },
    ])(ctx);
    expect(log).toEqual(["a", "b"]);
  });

  it("hands rejections and synchronous throws to the stages around them and the caller", async () => {
    const seen: unknown[] = [];
    const outer: Stage = async (_c, next) => {
      try {
        await next();
      } catch (e) {
        seen.push(e);
        throw e;
      }
    };
    const throwsSync = (() => {
      throw new Error("sync");
    }) as unknown as Stage;
    const rejects: Stage = async () => {
      throw new Error("async");
    };
    await expect(compose([outer, throwsSync])(ctx)).rejects.toThrow("sync");
    await expect(compose([outer, rejects])(ctx)).rejects.toThrow("async");
    await expect(compose([throwsSync])(ctx)).rejects.toThrow("sync");
    expect(seen.map((e) => (e as Error).message)).toEqual(["sync", "async"]);
  });
});
