// The native error shape for bad JSON, unknown fields, wrong types and AppErrors, through the real mapping.
import { expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { Conflict, HypervisorUnavailable } from "../../../src/errors.ts";
import { errorMapping } from "../../../src/routes/errors.ts";
import { json } from "../../support/http.ts";

// A route with a strict body, mounted the way createApp mounts every native route.
const app = new Elysia({ normalize: false })
  .use(errorMapping())
  .post("/things", ({ body }) => body, {
    body: t.Object(
      { name: t.String({ maxLength: 10 }), count: t.Integer({ minimum: 1 }) },
      { additionalProperties: false },
    ),
  })
  .get("/conflict", () => {
    throw new Conflict("thing web-1 already exists");
  })
  .get("/down", () => {
    throw new HypervisorUnavailable("hypervisor unavailable: connection closed (eof)");
  })
  .post("/full", () => {
    // What bun:sqlite throws when a write finds the data directory's disk full.
    throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL", errno: 13 });
  })
  .post("/busy", () => {
    // What bun:sqlite throws when another connection kept the write lock past busy_timeout.
    throw Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY", errno: 5 });
  })
  .get("/bug", () => {
    throw new TypeError("secret internal detail at /src/x.ts:12");
  });

const post = (body: string) =>
  app.handle(
    new Request("http://localhost/things", {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    }),
  );

test("valid input passes through", async () => {
  const res = await post(`{"name":"a","count":2}`);
  expect(res.status).toBe(200);
});

test("malformed JSON is 400 invalid_json", async () => {
  const res = await post(`{"name":`);
  expect(res.status).toBe(400);
  expect(await json(res)).toEqual({
    error: { code: "invalid_json", message: "request body is not valid JSON" },
  });
});

test("an unknown field is 400 invalid_request naming the field", async () => {
  const res = await post(`{"name":"a","count":2,"colour":"red"}`);
  expect(res.status).toBe(400);
  const body = await json(res);
  expect(body.error.code).toBe("invalid_request");
  expect(body.error.message).toContain("colour");
});

test("a wrong type is 400 invalid_request naming the path, without echoing the whole input", async () => {
  const res = await post(`{"name":"a","count":"lots","pad":"${"x".repeat(5000)}"}`);
  expect(res.status).toBe(400);
  const body = await json(res);
  expect(body.error.code).toBe("invalid_request");
  expect(body.error.message).toContain("count");
  expect(body.error.message.length).toBeLessThan(600);
  expect(Object.keys(body)).toEqual(["error"]);
});

test("AppErrors keep their status and code", async () => {
  const c = await app.handle(new Request("http://localhost/conflict"));
  expect(c.status).toBe(409);
  expect(await json(c)).toEqual({ error: { code: "conflict", message: "thing web-1 already exists" } });
  const d = await app.handle(new Request("http://localhost/down"));
  expect(d.status).toBe(503);
  expect((await json(d)).error.code).toBe("hypervisor_unavailable");
});

test("a bug is a 500 with no stack trace or internal detail", async () => {
  const spy = console.error;
  console.error = () => {};
  try {
    const res = await app.handle(new Request("http://localhost/bug"));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(text).not.toContain("secret");
  } finally {
    console.error = spy;
  }
});

test("a database write on a full disk (SQLITE_FULL) is 507 insufficient_storage, not a 500", async () => {
  const res = await app.handle(new Request("http://localhost/full", { method: "POST" }));
  expect(res.status).toBe(507);
  const body = await json(res);
  expect(body.error.code).toBe("insufficient_storage");
  expect(body.error.message).toContain("out of disk space");
});

test("a database whose write lock stayed taken (SQLITE_BUSY) is 503 database_busy, not a 500", async () => {
  const res = await app.handle(new Request("http://localhost/busy", { method: "POST" }));
  expect(res.status).toBe(503);
  const body = await json(res);
  expect(body.error.code).toBe("database_busy");
  expect(body.error.message).toContain("try again");
});
