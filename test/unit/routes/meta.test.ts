// /v1, /healthz, /openapi.json and /docs through app.handle, over a real Core on the test driver.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { FEATURES } from "../../../src/core/host.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testCore } from "../../support/core.ts";
import { json } from "../../support/http.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  core = await testCore();
  app = createApp(core);
});
afterAll(() => core.close());

const get = (path: string) => app.handle(new Request(`http://localhost${path}`));

test("GET /v1 answers versions, URI, domain type and features", async () => {
  const res = await get("/v1");
  expect(res.status).toBe(200);
  const body = await json(res);
  expect(body).toMatchObject({
    version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    libvirt_version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    hypervisor_uri: "test:///default",
    hypervisor_state: "up",
    domain_type: expect.stringMatching(/^(kvm|qemu)$/),
  });
  expect(body.features).toEqual([...FEATURES]);
});

test("GET /healthz is 200 with both checks ok", async () => {
  const res = await get("/healthz");
  expect(res.status).toBe(200);
  expect(await json(res)).toEqual({ healthy: true, checks: { database: "ok", hypervisor: "ok" } });
});

test("GET /healthz is 503 when the database is gone", async () => {
  const broken = await (await import("../../support/core.ts")).testCore();
  broken.db.close();
  const res = await createApp(broken).handle(new Request("http://localhost/healthz"));
  expect(res.status).toBe(503);
  const body = await json(res);
  expect(body.healthy).toBe(false);
  expect(body.checks.database).toStartWith("failed");
  await broken.hv.close();
});

test("GET /openapi.json describes the routes", async () => {
  const res = await get("/openapi.json");
  expect(res.status).toBe(200);
  const doc = await json(res);
  expect(doc.openapi).toStartWith("3.");
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1", "/healthz"]));
  expect(doc.paths["/v1"].get.responses["200"]).toBeDefined();
});

test("GET /docs renders with a locally served script and no outside URL", async () => {
  const html = await (await get("/docs")).text();
  expect(html).toContain("/docs/assets/scalar.js");
  expect(html).not.toMatch(/https?:\/\/(?!localhost)/);
  const js = await get("/docs/assets/scalar.js");
  expect(js.status).toBe(200);
  expect(js.headers.get("content-type")).toContain("javascript");
  expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
});

test("an unknown route is the native 404 error shape", async () => {
  const res = await get("/v1/nope");
  expect(res.status).toBe(404);
  expect(await json(res)).toEqual({ error: { code: "not_found", message: "no such route" } });
});

test("GET /healthz waits 2 s at most for a slow ping, and never shortens the ping's own deadline", async () => {
  // Fault injector: libvirtd answers pings late (busy Workers); the options berth passes are recorded.
  const seen: unknown[] = [];
  const hv = {
    get state() {
      return core.hv.state;
    },
    call: async (op: string, args: unknown, opts?: unknown) => {
      seen.push(opts);
      if (op === "ping") await Bun.sleep(2500);
      return core.hv.call(op as never, args as never);
    },
  } as unknown as typeof core.hv;
  const t0 = performance.now();
  const res = await createApp({ ...core, hv }).handle(new Request("http://localhost/healthz"));
  expect(performance.now() - t0).toBeLessThan(2400);
  expect(res.status).toBe(503);
  expect((await json(res)).checks.hypervisor).toContain("no answer to a ping within 2000 ms");
  expect(seen).toEqual([undefined]);
  expect(core.hv.state).toBe("up");
});
