// An unknown path under a front's prefix answers 404 in that front's error shape; elsewhere in the native one.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { apiClient } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await testCore(testConfig());
  api = apiClient(core);
});
afterAll(() => core.close());

test("vmpooler: {ok: false, reason} for an unknown path or method under /api/v1", async () => {
  for (const [m, p] of [
    ["GET", "/api/v1/nope"],
    ["POST", "/api/v1/disk/x"],
    ["PATCH", "/api/v1/vm/x"],
  ] as const) {
    const r = await api.send(m, p, {});
    expect({ m, p, status: r.status, body: r.body }).toEqual({
      m,
      p,
      status: 404,
      body: { ok: false, reason: "no such route" },
    });
  }
});

test("staging: {error: message} for an unknown path or method under /hosts and /networks", async () => {
  for (const [m, p] of [
    ["GET", "/hosts/a/b"],
    ["PATCH", "/hosts/a"],
    ["GET", "/networks/a/b"],
  ] as const) {
    const r = await api.send(m, p, {});
    expect({ m, p, status: r.status, body: r.body }).toEqual({
      m,
      p,
      status: 404,
      body: { error: "no such route" },
    });
  }
});

test("native: {error: {code, message}} elsewhere, including paths that only start like a front's", async () => {
  for (const p of ["/v1/nope", "/hostsx", "/api/v10"]) {
    const r = await api.get(p);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: { code: "not_found", message: "no such route" } });
  }
});
