// Bad input, everywhere (in process): seeded hostile requests to every route of every front, auth off and on.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mainListener } from "../../src/config/fronts.ts";
import { FRONTS } from "../../src/routes/fronts/registry.ts";
import { fuzzSeed, removeNew, type Snapshot, snapshot } from "./support/fuzz-harness.ts";
import { type FuzzRequest, type FuzzRoute, frontOf, routesOf } from "./support/fuzz-routes.ts";
import { FuzzRun } from "./support/fuzz-run.ts";
import { type FuzzTarget, fuzzTarget } from "./support/fuzz-setup.ts";

const SEED = fuzzSeed();
/** Requests per route with auth off and on; BERTH_FUZZ_RUNS scales both. */
const RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 100);
const RUNS_AUTH = Math.max(1, Math.round(RUNS / 2));
const HUGE_MB = 4;
console.log(
  `fuzz seed ${SEED} (repeat with BERTH_FUZZ_SEED=${SEED}); ${RUNS} runs per route, ${RUNS_AUTH} with auth on`,
);

const toRequest = (r: FuzzRequest) =>
  new Request(`http://localhost${r.path}`, { method: r.method, headers: r.headers, body: r.body });

/** Every route of every listener of the target. */
const allRoutes = (target: FuzzTarget) => target.listeners.flatMap(({ plan, app }) => routesOf(app, plan));

async function fuzzFront(target: FuzzTarget, label: string, pick: (r: FuzzRoute) => boolean, runs: number) {
  const on = (address: string) =>
    target.listeners.find((l) => l.plan.address === address) ?? target.listeners[0];
  const run = new FuzzRun(
    target.core,
    async (r, route) => (on(route.address)?.app ?? target.app).handle(toRequest(r)),
    SEED,
    (address, path) =>
      frontOf((on(address) ?? target.listeners[0])?.plan ?? mainListener(target.core.config), path),
  );
  await run.start();
  const routes = allRoutes(target).filter(pick);
  for (const route of routes) {
    await run.route(route, { names: target.names, auth: target.auth, hugeMb: HUGE_MB }, runs);
  }
  console.log(run.summary(label));
  const report = run.report();
  if (report.length > 0) console.log(report.join("\n"));
  return { routes, report };
}

describe("auth off", () => {
  let target: FuzzTarget;
  let before: Snapshot;
  beforeAll(async () => {
    target = await fuzzTarget(`fzo${SEED % 10_000}`, false);
    before = await snapshot(target.core);
  });
  afterAll(async () => {
    await removeNew(target.core, before);
    await target.core.close();
  });

  test("the route list read from the app covers every path of /openapi.json", async () => {
    const doc = (await (await target.app.handle(new Request("http://localhost/openapi.json"))).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const fromApp = new Set(
      routesOf(target.app, mainListener(target.core.config)).map(
        (r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`,
      ),
    );
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(documented.length).toBeGreaterThan(80);
    expect(documented.filter((k) => !fromApp.has(k))).toEqual([]);
  });

  for (const { name: front } of FRONTS) {
    test(`${front}: no 5xx, the ${front} error shape, nothing changed by a refusal`, async () => {
      const { routes, report } = await fuzzFront(
        target,
        `${front} (auth off)`,
        (r) => r.front === front,
        RUNS,
      );
      expect(routes.length).toBeGreaterThan(0);
      expect(report).toEqual([]);
    }, 120_000);
  }
});

describe("auth on", () => {
  let target: FuzzTarget;
  let before: Snapshot;
  beforeAll(async () => {
    target = await fuzzTarget(`fza${SEED % 10_000}`, true);
    before = await snapshot(target.core);
  });
  afterAll(async () => {
    await removeNew(target.core, before);
    await target.core.close();
  });

  test("every front: no 5xx, each front's error shape (401/403 included), nothing changed by a refusal", async () => {
    const { report } = await fuzzFront(target, "all fronts (auth on)", () => true, RUNS_AUTH);
    expect(report).toEqual([]);
  }, 120_000);
});
