// [<front>] enabled = false: the front is not mounted, its paths are unknown (native 404), its paths claim nothing.
import { expect, test } from "bun:test";
import { parseConfig } from "../../../src/config/load.ts";
import { FRONTS, servedFronts } from "../../../src/routes/fronts/registry.ts";
import { apiOnFreshCore } from "../../support/api.ts";

const t = apiOnFreshCore(
  "[vmpooler]\nenabled = false\n[staging]\nenabled = false\n[kahu]\nenabled = false\n[pvc]\nenabled = false",
);
const NOT_FOUND = { error: { code: "not_found", message: "no such route" } };

test("a disabled front is not mounted: its paths answer the native 404", async () => {
  expect(servedFronts(t.core.config).map((f) => f.name)).toEqual(["native"]);
  const others = FRONTS.filter((f) => f.name !== "native");
  const theirs = others.flatMap((f) => f.routes(t.core, [""]).routes.map((r) => r.path));
  expect(theirs.length).toBeGreaterThan(0);
  expect(t.api.app.routes.filter((r) => theirs.includes(r.path))).toEqual([]);
  for (const p of [
    "/api/v1/status",
    "/api/v1/vm",
    "/hosts",
    "/networks/x",
    "/dashboard/stats/vmpooler/pool",
    "/v0/compute/instance",
  ]) {
    const r = await t.api.get(p);
    expect({ p, status: r.status, body: r.body }).toEqual({ p, status: 404, body: NOT_FOUND });
  }
  expect((await t.api.get("/v1/sizes")).status).toBe(200);
});

test("a disabled front's paths collide with nothing", () => {
  expect(() => parseConfig('[vmpooler]\nprefix = "/hosts/api"', "t")).toThrow("overlaps");
  const off = parseConfig('[staging]\nenabled = false\n[vmpooler]\nprefix = "/hosts/api"', "t");
  expect(off.vmpooler.prefix).toBe("/hosts/api");
});

test("the native API cannot be turned off", () => {
  expect(() => parseConfig("[native]\nenabled = false", "t")).toThrow();
});
