import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../native/index.js";
import { ManualClock } from "../clock.js";
import { type ApprovalBinding, InMemoryApprovalStore, MAX_APPROVAL_TTL_S } from "./index.js";

const digestA = sha256Hex('{"path":"a.txt"}');
const digestB = sha256Hex('{"path":"b.txt"}');
const call: ApprovalBinding = { principal: "alice", tool: "files__delete", args_digest: digestA };

function setup() {
  const clock = new ManualClock("2026-06-01T09:00:00.000Z");
  return { clock, store: new InMemoryApprovalStore({ clock }) };
}

describe("InMemoryApprovalStore", () => {
  it("is bound to principal, tool and argument digest", async () => {
    const { store } = setup();
    const { id, expires_at } = await store.request({ ...call, prompt: "Delete a.txt?", ttl_s: 120 });
    expect(expires_at).toBe("2026-06-01T09:02:00.000Z");
    expect(await store.check(call)).toBe("none");
    const approval = await store.resolve(id, true, "alice");
    expect(approval).toMatchObject({
      state: "granted",
      resolved_by: "alice",
      resolved_at: "2026-06-01T09:00:00.000Z",
    });

    expect(await store.check({ ...call, args_digest: digestB })).toBe("none");
    expect(await store.check({ ...call, principal: "mallory" })).toBe("none");
    expect(await store.check({ ...call, tool: "files__delete_all" })).toBe("none");
    expect(await store.check(call)).toBe("granted");
  });

  it("admits one call per 'once' grant, and every identical call until expiry with 'ttl'", async () => {
    const { store, clock } = setup();
    const once = await store.request({ ...call, prompt: "ok?", ttl_s: 60 });
    await store.resolve(once.id, true, "alice");
    expect(await store.check(call)).toBe("granted");
    expect(await store.check(call)).toBe("none");

    const reusable = await store.request({ ...call, prompt: "ok?", ttl_s: 60, reuse: "ttl" });
    await store.resolve(reusable.id, true, "alice");
    expect(await store.check(call)).toBe("granted");
    expect(await store.check(call)).toBe("granted");
    clock.advance(60_000);
    expect(await store.check(call)).toBe("none");
  });

  it("expires unanswered and answered approvals by the clock", async () => {
    const { store, clock } = setup();
    const { id } = await store.request({ ...call, prompt: "ok?", ttl_s: 30 });
    clock.advance(29_999);
    expect(await store.get(id)).toMatchObject({ state: "pending" });
    expect((await store.pending("alice")).map((a) => a.id)).toEqual([id]);
    clock.advance(1);
    expect(await store.get(id)).toBeUndefined();
    expect(await store.pending()).toEqual([]);
    await expect(store.resolve(id, true, "alice")).rejects.toMatchObject({ code: "GW_ERR_NOT_FOUND" });

    const denied = await store.request({ ...call, prompt: "ok?", ttl_s: 30 });
    await store.resolve(denied.id, false, "alice");
    expect(await store.check(call)).toBe("denied");
    expect(await store.check(call)).toBe("denied");
    clock.advance(30_000);
    expect(await store.check(call)).toBe("none");
  });

  it("lets the latest answer win and refuses to flip an answer", async () => {
    const { store, clock } = setup();
    const first = await store.request({ ...call, prompt: "ok?", ttl_s: 300, reuse: "ttl" });
    await store.resolve(first.id, true, "alice");
    await expect(store.resolve(first.id, false, "alice")).rejects.toThrow(/already granted/);
    expect((await store.resolve(first.id, true, "alice")).state).toBe("granted");
    clock.advance(1000);
    const second = await store.request({ ...call, prompt: "still ok?", ttl_s: 300 });
    await store.resolve(second.id, false, "alice");
    expect(await store.check(call)).toBe("denied");
  });

  it("validates requests and bounds the number of open approvals", async () => {
    const store = new InMemoryApprovalStore({ maxApprovals: 2 });
    await expect(store.request({ ...call, prompt: "", ttl_s: 10 })).rejects.toThrow(/prompt/);
    await expect(store.request({ ...call, prompt: "x", ttl_s: 0 })).rejects.toThrow(/ttl_s/);
    await expect(store.request({ ...call, prompt: "x", ttl_s: MAX_APPROVAL_TTL_S + 1 })).rejects.toThrow(
      /ttl_s/,
    );
    await expect(store.request({ ...call, principal: "", prompt: "x", ttl_s: 10 })).rejects.toThrow(
      /principal/,
    );
    await store.request({ ...call, prompt: "x", ttl_s: 10 });
    await store.request({ ...call, prompt: "x", ttl_s: 10 });
    await expect(store.request({ ...call, prompt: "x", ttl_s: 10 })).rejects.toMatchObject({
      code: "GW_ERR_LIMIT",
    });
    await expect(store.resolve("no-such-id", true, "alice")).rejects.toMatchObject({
      code: "GW_ERR_NOT_FOUND",
    });
  });
});
