/**
 * Policy administration through the gateway app: `createServices` starts the policy plane from
 * config (a watched signed bundle file, a verification key by reference), `createApp` mounts
 * `PUT /v1/policy/bundle` and `GET /v1/policy/status` behind the REST authentication and
 * `auth.adminRoles`. Bundles are the production fixtures signed with a per-run test key; pushes
 * go in-process and once over a real socket.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aliceReads, makeBundle, verificationKey } from "../../policies/bundle/fixtures/bundles.js";
import { TestGateway } from "./test-support.js";

type Who = "root" | "boss";

const gateway = new TestGateway<Who>({
  name: "policy-admin",
  envPrefix: "PC_ADMIN",
  keys: {
    root: { secret: "root-key-0123456789abcdef", roles: ["admin"] },
    boss: { secret: "boss-key-0123456789abcdef", roles: ["approver"] },
  },
  config: {
    dataDir: "state",
    policy: {
      source: { file: "policy.tar.gz", keys: { release: { key: "file:release.pub", algorithm: "RS256" } } },
    },
    workspace: { roots: ["."] },
  },
  files: () => ({
    "release.pub": verificationKey.key,
    "policy.tar.gz": makeBundle({ revision: "admin-1", sign: true }),
  }),
});
beforeAll(() => gateway.start());
afterAll(() => gateway.close());

const req = (path: string, who: Who | undefined, init: RequestInit = {}) => gateway.request(path, who, init);

function push(bundle: Buffer, who: Who | undefined = "root") {
  return req("/v1/policy/bundle", who, {
    method: "PUT",
    headers: { "content-type": "application/gzip" },
    body: new Uint8Array(bundle),
  });
}

describe("policy admin routes in the gateway app", () => {
  it("serves the configured signed bundle and reports it to an admin", async () => {
    expect(gateway.services.policy.service.revision).toBe("admin-1");
    const res = await req("/v1/policy/status", "root");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { bundles: Record<string, { active_revision?: string }> };
    expect(JSON.stringify(body.bundles.portcullis)).toContain("admin-1");
  });

  it("refuses anonymous callers with 401 problem+json and non-admins with 403", async () => {
    const anon = await req("/v1/policy/status", undefined);
    expect(anon.status).toBe(401);
    expect(anon.headers.get("content-type")).toContain("application/problem+json");
    expect(anon.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const boss = await push(makeBundle({ revision: "admin-boss", sign: true }), "boss");
    expect(boss.status).toBe(403);
    expect(((await boss.json()) as { code: string }).code).toBe("GW_ERR_FORBIDDEN");
    expect(gateway.services.policy.service.revision).toBe("admin-1");
  });

  it("activates a pushed signed bundle: decisions change, the status shows the push", async () => {
    const before = await gateway.services.policy.service.decide(aliceReads);
    expect(before.decision).toBe("allow");
    const res = await push(makeBundle({ revision: "admin-2", sign: true, denyDocs: true }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ revision: "admin-2", signature: { key_id: "release" } });
    expect(gateway.services.policy.service.revision).toBe("admin-2");
    const after = await gateway.services.policy.service.decide(aliceReads);
    expect(after.decision).toBe("deny");
    expect(after.revision).toBe("admin-2");
    const status = await (await req("/v1/policy/status", "root")).text();
    expect(status).toContain("admin-2");
  });

  it("rejects unsigned and tampered bundles and keeps serving the last good one", async () => {
    const unsigned = await push(makeBundle({ revision: "admin-unsigned" }));
    expect(unsigned.status).toBe(422);
    expect(unsigned.headers.get("content-type")).toContain("application/problem+json");
    const refused = (await unsigned.json()) as {
      code: string;
      status: number;
      reason: string;
      detail: string;
      bundle_status?: unknown;
    };
    expect(refused).toMatchObject({ code: "GW_ERR_BUNDLE", status: 422 });
    expect(refused.reason).toMatch(/^[a-z_]+$/);
    expect(refused.detail.length).toBeGreaterThan(0);
    expect(JSON.stringify(refused.bundle_status)).toContain("admin-2");
    const wrongType = await req("/v1/policy/bundle", "root", {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "not a bundle",
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.headers.get("content-type")).toContain("application/problem+json");
    expect(((await wrongType.json()) as { code: string }).code).toBe("GW_ERR_UNSUPPORTED_MEDIA_TYPE");
    const tampered = await push(
      makeBundle({
        revision: "admin-tampered",
        sign: true,
        tamper: (files) => files.set("data.json", Buffer.from("{}")),
      }),
    );
    expect(tampered.status).toBe(422);
    expect(gateway.services.policy.service.revision).toBe("admin-2");
  });

  it("accepts a push over a real socket", async () => {
    const server = await gateway.listen();
    try {
      const res = await fetch(`${server.base}/v1/policy/bundle`, {
        method: "PUT",
        headers: { authorization: `Bearer ${gateway.secret("root")}`, "content-type": "application/gzip" },
        body: new Uint8Array(makeBundle({ revision: "admin-3", sign: true })),
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { revision: string }).revision).toBe("admin-3");
      expect(gateway.services.policy.service.revision).toBe("admin-3");
      expect((await gateway.services.policy.service.decide(aliceReads)).decision).toBe("allow");
    } finally {
      await server.close();
    }
  });
});
