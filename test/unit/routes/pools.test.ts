// /v1/pools and /v1/checkout routes: CRUD, validation, declared pools, reset, and every error path.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { syncDeclaredPools } from "../../../src/core/pools/declared.ts";
import { apiClient } from "../../support/api.ts";
import { cleanup, poolCore } from "../core/pools-support.ts";

const P = "uprt";
let core: Awaited<ReturnType<typeof poolCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await poolCore(
    P,
    `[[pools]]\nname = "${P}-cfg"\nprofile = "${P}-tiny"\nsize = 0\nalias = ["${P}-cfg-alias"]`,
  );
  syncDeclaredPools(core);
  api = apiClient(core);
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

describe("/v1/pools", () => {
  test("create with defaults, show, list, patch, reset, delete", async () => {
    const c = await api.post("/v1/pools", {
      name: `${P}-web`,
      profile: `${P}-tiny`,
      size: 2,
      alias: [`${P}-w`],
    });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({
      name: `${P}-web`,
      origin: "api",
      size: 2,
      ready_ttl: 60,
      lifetime: 24,
      max_lifetime: 168,
      ready_check: "running",
      ready_timeout: 15,
      alias: [`${P}-w`],
      generation: 1,
      counts: { pending: 0, ready: 0, checked_out: 0, draining: 0 },
    });
    expect((await api.get(`/v1/pools/${P}-web`)).body.name).toBe(`${P}-web`);
    expect((await api.get("/v1/pools")).body.map((p: { name: string }) => p.name)).toContain(`${P}-web`);
    const p = await api.patch(`/v1/pools/${P}-web`, { size: 3, ready_check: "tcp:22" });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ size: 3, ready_check: "tcp:22", generation: 1 });
    const r = await api.post(`/v1/pools/${P}-web/reset`);
    expect(r.body.generation).toBe(2);
    expect((await api.delete(`/v1/pools/${P}-web`)).status).toBe(204);
    expect((await api.get(`/v1/pools/${P}-web`)).status).toBe(404);
  });

  test("a declared pool is the file's: listed as config, PATCH and DELETE 409, reset allowed", async () => {
    expect((await api.get(`/v1/pools/${P}-cfg`)).body.origin).toBe("config");
    expect((await api.patch(`/v1/pools/${P}-cfg`, { size: 1 })).status).toBe(409);
    expect((await api.delete(`/v1/pools/${P}-cfg`)).status).toBe(409);
    expect((await api.post(`/v1/pools/${P}-cfg/reset`)).status).toBe(200);
  });

  test("bad input is 400 with the error shape", async () => {
    const cases: unknown[] = [
      { name: `${P}-x`, size: 1 }, // no recipe
      { name: `${P}-x`, profile: `${P}-tiny`, image: "i", vm_size: "s", size: 1 }, // both
      { name: `${P}-x`, profile: `${P}-tiny`, size: 1, lifetime: 10, max_lifetime: 5 },
      { name: `${P}-x`, profile: `${P}-tiny`, size: 1, ready_check: "tcp:99999" },
      { name: `${P}-x`, profile: `${P}-tiny`, size: 1, ready_check: "ping" },
      { name: `${P}-x`, profile: `${P}-tiny`, size: -1 },
      { name: `${P}-x`, profile: `${P}-tiny`, size: 1, bogus: 1 },
      { name: "not..a.name", profile: `${P}-tiny`, size: 1 },
    ];
    for (const body of cases) {
      const r = await api.post("/v1/pools", body);
      expect(r.status).toBe(400);
      expect(typeof r.body.error.code).toBe("string");
      expect(typeof r.body.error.message).toBe("string");
    }
    expect((await api.patch(`/v1/pools/${P}-cfg`, { bogus: 1 })).status).toBe(400);
  });

  test("unknown references are 404; taken names 409; an alias may be shared, never a pool's name", async () => {
    expect((await api.post("/v1/pools", { name: `${P}-y`, profile: `${P}-nope`, size: 1 })).status).toBe(404);
    expect(
      (
        await api.post("/v1/pools", {
          name: `${P}-y`,
          profile: `${P}-tiny`,
          size: 1,
          networks: [`${P}-nonet`],
        })
      ).status,
    ).toBe(404);
    expect((await api.post("/v1/pools", { name: `${P}-cfg`, profile: `${P}-tiny`, size: 1 })).status).toBe(
      409,
    );
    expect(
      (await api.post("/v1/pools", { name: `${P}-cfg-alias`, profile: `${P}-tiny`, size: 1 })).status,
    ).toBe(409);
    const shared = await api.post("/v1/pools", {
      name: `${P}-z`,
      profile: `${P}-tiny`,
      size: 0,
      alias: [`${P}-cfg-alias`],
    });
    expect(shared.status).toBe(201);
    expect((await api.delete(`/v1/pools/${P}-z`)).status).toBe(204);
    expect(
      (await api.post("/v1/pools", { name: `${P}-z`, profile: `${P}-tiny`, size: 0, alias: [`${P}-cfg`] }))
        .status,
    ).toBe(409);
    expect((await api.patch(`/v1/pools/${P}-none`, { size: 1 })).status).toBe(404);
    expect((await api.delete(`/v1/pools/${P}-none`)).status).toBe(404);
    expect((await api.post(`/v1/pools/${P}-none/reset`)).status).toBe(404);
  });
});

describe("/v1/checkout", () => {
  test("unknown pool or alias is 404; an empty pool is 503 pool_empty; bad bodies 400", async () => {
    expect((await api.post("/v1/checkout", { [`${P}-none`]: 1 })).status).toBe(404);
    const empty = await api.post("/v1/checkout", { [`${P}-cfg-alias`]: 1 });
    expect(empty.status).toBe(503);
    expect(empty.body.error.code).toBe("pool_empty");
    expect(empty.body.error.message).toContain(`${P}-cfg`);
    expect((await api.post("/v1/checkout", { [`${P}-cfg`]: 0 })).status).toBe(400);
    expect((await api.post("/v1/checkout", { [`${P}-cfg`]: "1" })).status).toBe(400);
    expect((await api.post("/v1/checkout", {})).status).toBe(400);
    expect((await api.post(`/v1/checkout?bogus=1`, { [`${P}-cfg`]: 1 })).status).toBe(400);
  });
});
