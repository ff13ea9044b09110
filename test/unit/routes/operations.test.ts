// /v1/operations through the app: list with filters, show, 404, bounded wait, cancel, and bad input → 400.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { OpContext } from "../../../src/core/operations.ts";
import { AppError } from "../../../src/errors.ts";
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

const req = (method: string, path: string) => app.handle(new Request(`http://localhost${path}`, { method }));
const get = (path: string) => req("GET", path);

/** Starts an operation that runs until released, honouring cancel; resolves once its body runs. */
async function held(kind: string, target: string) {
  const d = Promise.withResolvers<unknown>();
  const op = core.ops.start(kind, target, (ctx: OpContext) => {
    ctx.signal.addEventListener("abort", () => d.reject(ctx.signal.reason));
    return d.promise;
  });
  await Bun.sleep(0); // as over HTTP, where a cancel arrives after the body has started
  return { op, release: (v: unknown) => d.resolve(v) };
}

test("GET /v1/operations lists newest first, filtered by exact target and status, limited", async () => {
  const a = core.ops.start("t.list", "vm/list-a", async () => ({ n: 1 }));
  await core.ops.wait(a.id, 5);
  await Bun.sleep(2);
  const b = await held("t.list", "vm/list-b");
  await Bun.sleep(2);
  const c = core.ops.start("t.list", "vm/list-a", async () => {
    throw new AppError(409, "conflict", "nope");
  });
  await core.ops.wait(c.id, 5);

  const all = await get("/v1/operations");
  expect(all.status).toBe(200);
  const ids = (await json(all)).map((o: { id: string }) => o.id);
  expect(ids.indexOf(c.id)).toBeLessThan(ids.indexOf(b.op.id));
  expect(ids.indexOf(b.op.id)).toBeLessThan(ids.indexOf(a.id));

  const byTarget = await json(await get("/v1/operations?target=vm/list-a"));
  expect(byTarget.map((o: { id: string }) => o.id)).toEqual([c.id, a.id]);
  expect(byTarget[0]).toMatchObject({
    status: "failed",
    error: { code: "conflict", message: "nope", status: 409 },
  });
  expect(byTarget[1]).toMatchObject({ status: "succeeded", progress: 1, result: { n: 1 } });
  expect(await json(await get("/v1/operations?target=vm/list"))).toEqual([]);

  const running = await json(await get("/v1/operations?status=running&target=vm/list-b"));
  expect(running.map((o: { id: string }) => o.id)).toEqual([b.op.id]);
  expect(await json(await get("/v1/operations?limit=1"))).toHaveLength(1);
  b.release(null);
  await core.ops.wait(b.op.id, 5);
});

test("GET /v1/operations/:id shows one operation with every field", async () => {
  const op = core.ops.start("t.show", "vm/show", async () => "r");
  await core.ops.wait(op.id, 5);
  const res = await get(`/v1/operations/${op.id}`);
  expect(res.status).toBe(200);
  const body = await json(res);
  expect(Object.keys(body).sort()).toEqual(
    [
      "created_at",
      "error",
      "finished_at",
      "id",
      "kind",
      "message",
      "owner",
      "progress",
      "result",
      "status",
      "target",
      "updated_at",
    ].sort(),
  );
  expect(body).toMatchObject({
    id: op.id,
    kind: "t.show",
    target: "vm/show",
    status: "succeeded",
    result: "r",
  });
});

test("an unknown operation is 404 for show, wait and cancel", async () => {
  for (const [method, path] of [
    ["GET", "/v1/operations/no-such-op"],
    ["GET", "/v1/operations/no-such-op/wait?timeout=1"],
    ["DELETE", "/v1/operations/no-such-op"],
  ] as const) {
    const res = await req(method, path);
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({
      error: { code: "not_found", message: "operation no-such-op does not exist" },
    });
  }
});

test("GET …/wait returns when the operation ends, before its timeout", async () => {
  const h = await held("t.wait", "vm/wait");
  setTimeout(() => h.release({ done: true }), 50);
  const t0 = performance.now();
  const res = await get(`/v1/operations/${h.op.id}/wait?timeout=30`);
  expect(res.status).toBe(200);
  expect(await json(res)).toMatchObject({ status: "succeeded", result: { done: true } });
  expect(performance.now() - t0).toBeLessThan(5000);
});

test("GET …/wait answers the still-running operation when the timeout passes", async () => {
  const h = await held("t.wait", "vm/wait-timeout");
  const t0 = performance.now();
  const res = await get(`/v1/operations/${h.op.id}/wait?timeout=0.2`);
  const took = performance.now() - t0;
  expect(res.status).toBe(200);
  expect((await json(res)).status).toBe("running");
  expect(took).toBeGreaterThanOrEqual(150);
  expect(took).toBeLessThan(2000);
  h.release(null);
  await core.ops.wait(h.op.id, 5);
});

test("DELETE /v1/operations/:id cancels a running operation; a finished one stays as it was", async () => {
  const h = await held("t.cancel", "vm/cancel");
  const res = await req("DELETE", `/v1/operations/${h.op.id}`);
  expect(res.status).toBe(200);
  expect((await json(res)).id).toBe(h.op.id);
  const done = await json(await get(`/v1/operations/${h.op.id}/wait?timeout=5`));
  expect(done).toMatchObject({ status: "cancelled", error: { code: "cancelled", status: 409 } });
  const again = await req("DELETE", `/v1/operations/${h.op.id}`);
  expect(again.status).toBe(200);
  expect((await json(again)).status).toBe("cancelled");
});

test.each([
  ["/v1/operations?status=bogus", "query.status"],
  // Elysia drops the field name of an out-of-range number in a query (its message says "property").
  ["/v1/operations?limit=0", "greater or equal to 1"],
  ["/v1/operations?limit=1001", "less or equal to 1000"],
  ["/v1/operations?limit=two", "query.limit"],
  ["/v1/operations?limit=1.5", "query.limit"],
  ["/v1/operations?owner=me", "query.owner"],
  [`/v1/operations?target=${"x".repeat(201)}`, "query.target"],
  ["/v1/operations/some-id/wait?timeout=301", "less or equal to 300"],
  ["/v1/operations/some-id/wait?timeout=-1", "greater or equal to 0"],
  ["/v1/operations/some-id/wait?timeout=soon", "query.timeout"],
  ["/v1/operations/some-id/wait?timeout=1&extra=1", "query.extra"],
  [`/v1/operations/${"a".repeat(65)}`, "params.id"],
])("GET %s is 400 saying %s", async (path, where) => {
  const res = await get(path);
  expect(res.status).toBe(400);
  const body = await json(res);
  expect(body.error.code).toBe("invalid_request");
  expect(body.error.message).toContain(where);
});

test("the operations routes are in the OpenAPI document", async () => {
  const doc = await json(await get("/openapi.json"));
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining(["/v1/operations", "/v1/operations/{id}", "/v1/operations/{id}/wait"]),
  );
  expect(doc.paths["/v1/operations/{id}"].delete).toBeDefined();
});
