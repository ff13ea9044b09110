// The registry is the only way a front is mounted: every route of the app is a declared front's (or the docs), under its paths.
import { expect, test } from "bun:test";
import { FRONT_NAMES, frontPathCollisions, isUnder } from "../../../src/config/fronts.ts";
import { parseConfig } from "../../../src/config/load.ts";
import { FRONTS, frontAt } from "../../../src/routes/fronts/registry.ts";
import { apiOnFreshCore } from "../../support/api.ts";

const t = apiOnFreshCore('[vmpooler]\nprefix = "/vmpooler/api/v1"');
const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
/** The OpenAPI document and its bundle, which app.ts mounts beside the fronts, on the native front's paths. */
const DOCS = ["/docs", "/openapi.json"];

test("the registry declares every front once, each with its own name", () => {
  expect(FRONTS.map((f) => f.name).sort()).toEqual([...FRONT_NAMES].sort());
});

test("every route of the app is mounted by exactly one front, under that front's paths", () => {
  const mounted = new Map<string, string>();
  for (const front of FRONTS) {
    for (const r of front.routes(t.core).routes) {
      expect({ route: key(r), front: frontAt(t.core.config, r.path).name }).toEqual({
        route: key(r),
        front: front.name,
      });
      expect(mounted.get(key(r))).toBeUndefined();
      mounted.set(key(r), front.name);
    }
  }
  const unmounted = t.api.app.routes
    .map(key)
    .filter((k) => !mounted.has(k) && !DOCS.some((d) => isUnder(k.split(" ")[1] as string, d)));
  expect(unmounted).toEqual([]);
});

test("every documented route carries only its front's OpenAPI tags", () => {
  for (const front of FRONTS) {
    for (const r of front.routes(t.core).routes) {
      const detail = (r.hooks as { detail?: { tags?: string[]; hide?: boolean } }).detail;
      if (detail?.hide) continue;
      const wrong = (detail?.tags ?? []).filter((tag) => !front.tags.includes(tag));
      expect({ route: key(r), tags: detail?.tags?.length ?? 0, wrong }).toEqual({
        route: key(r),
        tags: detail?.tags?.length ? detail.tags.length : 1,
        wrong: [],
      });
    }
  }
});

test("a path belongs to a front by whole segments; one no front claims answers natively", () => {
  const at = (p: string) => frontAt(t.core.config, p).name;
  expect(at("/vmpooler/api/v1/vm")).toBe("vmpooler");
  expect(at("/vmpooler/api/v10")).toBe("native");
  expect(at("/api/v1/vm")).toBe("native");
  expect(at("/hosts")).toBe("staging");
  expect(at("/hostsx")).toBe("native");
  expect(at("/dashboard/stats/vmpooler/pool")).toBe("vmpooler");
});

test("fronts whose paths overlap are a config error naming both", () => {
  expect(frontPathCollisions(parseConfig("", "t"))).toEqual([]);
  expect(() => parseConfig('[vmpooler]\nprefix = "/hosts/api"', "t")).toThrow(
    "staging front's /hosts overlaps the vmpooler front's /hosts/api",
  );
});
