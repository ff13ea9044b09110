// An unknown path under a front's prefix answers 404 in that front's error shape; elsewhere in the native one.
import { expect, test } from "bun:test";
import { apiOnFreshCore } from "../../support/api.ts";

const t = apiOnFreshCore();

test("vmpooler: {ok: false, reason} for an unknown path or method under /api/v1", async () => {
  for (const [m, p] of [
    ["GET", "/api/v1/nope"],
    ["POST", "/api/v1/disk/x"],
    ["PATCH", "/api/v1/vm/x"],
  ] as const) {
    const r = await t.api.send(m, p, {});
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
    const r = await t.api.send(m, p, {});
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
    const r = await t.api.get(p);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: { code: "not_found", message: "no such route" } });
  }
});
