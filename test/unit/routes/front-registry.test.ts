// The registry is the only way a front is mounted: every route of the app is a declared front's (or the docs), under its paths.
import { expect, test } from "bun:test";
import {
  FRONT_NAMES,
  frontPathCollisions,
  isUnder,
  listenerPlan,
  mainListener,
} from "../../../src/config/fronts.ts";
import { parseConfig } from "../../../src/config/load.ts";
import { FRONTS, frontAt, frontNamed } from "../../../src/routes/fronts/registry.ts";
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
  const main = mainListener(t.core.config);
  for (const { front: name, bases } of main.fronts) {
    const front = frontNamed(name);
    for (const r of front.routes(t.core, bases).routes) {
      expect({ route: key(r), front: frontAt(main, r.path).name }).toEqual({
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
    for (const r of front.routes(t.core, [""]).routes) {
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
  const at = (p: string) => frontAt(mainListener(t.core.config), p).name;
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

test("fronts sharing a listener may not overlap there; on separate listeners the same paths are fine", () => {
  // PVC and vmpooler both answer at /api/v1: never on one listener, however it comes about.
  for (const toml of [
    '[pvc]\nlisten = "127.0.0.1:8470"',
    '[pvc]\nlisten = "127.0.0.1:9004"\n[vmpooler]\nlisten = "127.0.0.1:9004"',
  ]) {
    expect(() => parseConfig(toml, "t")).toThrow(
      /pvc front's \/api\/v1 overlaps the vmpooler front's|vmpooler front's \/api\/v1 overlaps the pvc front's/,
    );
  }
  expect(() =>
    parseConfig('[pvc]\nlisten = "127.0.0.1:8470"\n[vmpooler]\nenabled = false', "t"),
  ).not.toThrow();
  const shared =
    '[staging]\nlisten = "127.0.0.1:9001"\n[vmpooler]\nlisten = "127.0.0.1:9001"\nprefix = "/hosts/x"';
  expect(() => parseConfig(`${shared}`, "t")).toThrow(
    "staging front's /hosts overlaps the vmpooler front's /hosts/x on the listener 127.0.0.1:9001",
  );
  // vmpooler at the root of its own listener, beside the native API's /v1 on the main one.
  const apart = parseConfig(
    '[vmpooler]\nprefix = ""\nlisten = "127.0.0.1:9002"\n[pvc]\nlisten = ""\n[sysadm]\nenabled = false',
    "t",
  );
  expect(listenerPlan(apart).map((l) => [l.address, l.main, l.fronts])).toEqual([
    [
      "127.0.0.1:8470",
      true,
      [
        { front: "native", bases: [""] },
        { front: "staging", bases: [""] },
        { front: "vmpooler", bases: [""] },
        { front: "kahu", bases: [""] },
      ],
    ],
    ["127.0.0.1:9002", false, [{ front: "vmpooler", bases: [""] }]],
  ]);
  expect(frontPathCollisions(apart)).toEqual([]);
});

test('a front listener on the main address joins the main listener; listen = "" and enabled = false leave none', () => {
  const same = parseConfig(
    '[vmpooler]\nlisten = "127.0.0.1:8470"\n[pvc]\nenabled = false\n[sysadm]\nenabled = false',
    "t",
  );
  expect(listenerPlan(same).map((l) => l.address)).toEqual(["127.0.0.1:8470"]);
  expect(mainListener(same).fronts.find((f) => f.front === "vmpooler")?.bases).toEqual(["/api/v1", ""]);
  const off = parseConfig(
    '[vmpooler]\nenabled = false\nlisten = "127.0.0.1:9003"\n[pvc]\nlisten = ""\n[sysadm]\nenabled = false',
    "t",
  );
  expect(listenerPlan(off).map((l) => l.address)).toEqual(["127.0.0.1:8470"]);
  expect(listenerPlan(parseConfig("", "t")).map((l) => l.address)).toEqual([
    "127.0.0.1:8470",
    "127.0.0.1:7370",
    "127.0.0.1:12151",
    "127.0.0.1:12150",
  ]);
  const none = parseConfig('[pvc]\nlisten = ""\n[sysadm]\nlisten_ws = ""\nlisten_rest = ""', "t");
  expect(listenerPlan(none).map((l) => l.address)).toEqual(["127.0.0.1:8470"]);
});

test("sysadm: /sysadm on the main listener (plain), its REST listener and its WebSocket one over TLS", () => {
  const config = parseConfig('data_dir = "/d"\n[pvc]\nlisten = ""', "t");
  const plans = listenerPlan(config);
  expect(
    plans.map((l) => [l.address, l.main, l.fronts.map((f) => f.front), l.tls ?? null, l.socket ?? null]),
  ).toEqual([
    ["127.0.0.1:8470", true, ["native", "staging", "vmpooler", "kahu", "sysadm"], null, null],
    [
      "127.0.0.1:12151",
      false,
      ["sysadm"],
      { certFile: "/d/sysadm/server.crt", keyFile: "/d/sysadm/server.key" },
      null,
    ],
    [
      "127.0.0.1:12150",
      false,
      [],
      { certFile: "/d/sysadm/server.crt", keyFile: "/d/sysadm/server.key" },
      "sysadm",
    ],
  ]);
  const own = parseConfig('[sysadm]\ncert_file = "/c.pem"\nkey_file = "/k.pem"', "t");
  expect(listenerPlan(own).find((l) => l.socket === "sysadm")?.tls).toEqual({
    certFile: "/c.pem",
    keyFile: "/k.pem",
  });
});
