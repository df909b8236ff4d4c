import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleActivator } from "./activator.js";
import { DecisionLogger } from "./decision-log.js";
import { aliceReads, keys, makeBundle } from "./fixtures/bundles.js";
import { createPolicyAdminRoutes } from "./http.js";

const scratch = mkdtempSync(join(tmpdir(), "portcullis-admin-"));
const activator = await BundleActivator.open({ dataDir: scratch, keys });
const decisionLog = new DecisionLogger({});
afterAll(async () => {
  await activator.close();
  await decisionLog.close();
  rmSync(scratch, { recursive: true, force: true });
});

const app = createPolicyAdminRoutes({
  activator,
  decisionLog,
  maxBundleBytes: 1024 * 1024,
  authorize: (req) => req.headers.get("authorization") === "Bearer admin-token",
});
const admin = { authorization: "Bearer admin-token", "content-type": "application/gzip" };

function put(body: Uint8Array, headers: Record<string, string> = admin) {
  return app.request("/v1/policy/bundle", { method: "PUT", headers, body });
}

describe("policy admin routes", () => {
  it("activates a pushed signed bundle and reports it in status and metrics", async () => {
    const res = await put(makeBundle({ revision: "push-1", sign: true, denyDocs: true }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ revision: "push-1", signature: { key_id: "release" } });
    expect((await activator.service.decide(aliceReads)).decision).toBe("deny");

    const status = await app.request("/v1/policy/status", { headers: admin });
    expect(status.status).toBe(200);
    const body = (await status.json()) as { bundles: Record<string, Record<string, unknown>> };
    expect(body.bundles.portcullis).toMatchObject({ active_revision: "push-1", active_source: "push" });
    expect(body.bundles.portcullis?.last_successful_activation).toEqual(expect.any(String));

    const metrics = await app.request("/v1/policy/metrics", { headers: admin });
    expect(await metrics.text()).toMatch(/portcullis_bundle_activations_total\{bundle="portcullis"\} 1/);
  });

  it("refuses tampered and unsigned pushes with the reason, and keeps serving", async () => {
    const tampered = makeBundle({
      revision: "push-2",
      sign: true,
      tamper: (f) => f.set("data.json", Buffer.from("{}")),
    });
    const res = await put(tampered);
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      error: { code: "hash_mismatch" },
      status: { active_revision: "push-1" },
    });
    const unsigned = await put(makeBundle({ revision: "push-3" }));
    expect(unsigned.status).toBe(422);
    expect(await unsigned.json()).toMatchObject({ error: { code: "unsigned" } });
    expect(activator.service.revision).toBe("push-1");
  });

  it("requires authorization, a gzip body and bounded size", async () => {
    expect(
      (await put(makeBundle({ revision: "x", sign: true }), { "content-type": "application/gzip" })).status,
    ).toBe(401);
    expect((await app.request("/v1/policy/status")).status).toBe(401);
    expect((await put(Buffer.from("{}"), { ...admin, "content-type": "application/json" })).status).toBe(415);
    const big = await put(Buffer.alloc(2 * 1024 * 1024));
    expect(big.status).toBe(413);
    expect(activator.service.revision).toBe("push-1");
  });
});
