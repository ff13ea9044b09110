// Bad input over a real socket: raw bytes in paths, lying Content-Length, broken chunks, several-MB bodies; the server lives.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mainListener } from "../../src/config/fronts.ts";
import {
  checkAnswer,
  diff,
  fuzzSeed,
  removeNew,
  type Snapshot,
  settle,
  snapshot,
} from "./support/fuzz-harness.ts";
import { type FuzzRequest, frontOf, routesOf } from "./support/fuzz-routes.ts";
import { FuzzRun } from "./support/fuzz-run.ts";
import { type FuzzTarget, fuzzTarget } from "./support/fuzz-setup.ts";
import { wire, wireCases } from "./support/fuzz-wire.ts";

const SEED = fuzzSeed();
const RUNS = Number(process.env.BERTH_FUZZ_SOCKET_RUNS ?? 5);
const HUGE_MB = 8;
console.log(`fuzz socket seed ${SEED} (repeat with BERTH_FUZZ_SEED=${SEED}); ${RUNS} runs per route`);

let target: FuzzTarget;
let before: Snapshot;
let server: { port: number; stop(): Promise<void> };
beforeAll(async () => {
  target = await fuzzTarget(`fzs${SEED % 10_000}`, false);
  before = await snapshot(target.core);
  // The same limit as berth serve: image uploads stream whole disk images through one request.
  const s = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (r) => target.app.handle(r),
    maxRequestBodySize: 2 ** 40,
  });
  server = { port: s.port as number, stop: () => s.stop(true) };
});
afterAll(async () => {
  await server.stop();
  await removeNew(target.core, before);
  await target.core.close();
});

const alive = async () => (await fetch(`http://127.0.0.1:${server.port}/healthz`)).status;

test("raw requests: no 5xx, each front's error shape, the server answers after each, nothing changed", async () => {
  const vm = target.names.find((n) => n.endsWith("-vm")) ?? "x";
  const size = target.names.find((n) => n.endsWith("-size")) ?? "x";
  const problems: string[] = [];
  await settle(target.core);
  let state = await snapshot(target.core);
  const cases = wireCases({ vm, size });
  for (const [name, bytes] of cases) {
    const a = await wire(server.port, bytes);
    // Bun's HTTP parser answers a malformed request itself (400, 431, or 505 for a request line it cannot
    // read) before berth runs: no JSON body. Everything with a JSON body came from berth and is checked.
    const fromBerth = a.head.toLowerCase().includes("content-type: application/json");
    if (a.status !== null && fromBerth) {
      const raw = /^[A-Z]+ (\S+)/.exec(Buffer.from(bytes).toString("latin1"))?.[1] ?? "/";
      const path = URL.canParse(raw, "http://localhost") ? new URL(raw, "http://localhost").pathname : raw;
      const headers = new Headers({ "content-type": "application/json" });
      for (const p of checkAnswer(frontOf(mainListener(target.core.config), path), {
        status: a.status,
        text: a.body,
        headers,
      }))
        problems.push(`${name}: ${p}`);
    } else if (a.status !== null && a.status >= 500 && !(a.status === 505 && a.body === "")) {
      problems.push(`${name}: status ${a.status} ${a.body.slice(0, 200)}`);
    }
    if ((await alive()) !== 200) problems.push(`${name}: /healthz failed afterwards`);
    await settle(target.core);
    const after = await snapshot(target.core);
    if (a.status === null || a.status >= 300) {
      const changed = diff(state, after);
      if (changed.length > 0)
        problems.push(`${name}: refused (${a.status}) but changed ${changed.slice(0, 5).join("; ")}`);
    }
    state = after;
  }
  console.log(`fuzz socket raw: ${cases.length} hand-written raw requests`);
  expect(problems).toEqual([]);
}, 60_000);

test("generated requests over fetch, several-MB bodies included: the same checks as in process", async () => {
  const base = `http://127.0.0.1:${server.port}`;
  const send = (r: FuzzRequest) =>
    fetch(base + r.path, { method: r.method, headers: r.headers, body: r.body });
  const main = mainListener(target.core.config);
  const run = new FuzzRun(target.core, send, SEED, (_address, path) => frontOf(main, path));
  await run.start();
  for (const route of routesOf(target.app, main).filter((r) => r.method !== "GET")) {
    await run.route(route, { names: target.names, auth: null, hugeMb: HUGE_MB }, RUNS);
  }
  // Every body-taking route gets one several-MB body of each kind, whatever the stream drew.
  for (const route of routesOf(target.app, main).filter((r) => r.body)) {
    for (const body of [JSON.stringify({ name: "a".repeat(HUGE_MB << 20) }), "x".repeat(HUGE_MB << 20)]) {
      const path = route.path.replace(/:(\w+)/g, "fzs-huge");
      await run.one(route, {
        method: route.method,
        path,
        headers: { "content-type": "application/json" },
        body,
        kind: "huge",
      });
    }
  }
  console.log(run.summary("socket"));
  const report = run.report();
  if (report.length > 0) console.log(report.join("\n"));
  expect(await alive()).toBe(200);
  expect(report).toEqual([]);
}, 90_000);
