// Bodies no schema accepts are refused before validation: deep nesting (was a 500) and bare strings (was seconds of CPU).
import { describe, expect, test } from "bun:test";
import { MAX_BODY_DEPTH, nestedDeeperThan } from "../../../src/routes/body-guard.ts";
import { apiOnFreshCore } from "../../support/api.ts";
import { json } from "../../support/http.ts";

const t = apiOnFreshCore();

const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
const deepArray = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

describe("nestedDeeperThan", () => {
  test("counts object and array levels, scalars are depth 0, and checks 100 000 levels without recursing", () => {
    expect(nestedDeeperThan(1, 0)).toBe(false);
    expect(nestedDeeperThan({ a: [1] }, 2)).toBe(false);
    expect(nestedDeeperThan({ a: [[1]] }, 2)).toBe(true);
    expect(nestedDeeperThan(JSON.parse(deepArray(100_000)), MAX_BODY_DEPTH)).toBe(true);
  });
});

describe("deeply nested bodies", () => {
  for (const [method, path, check] of [
    ["POST", "/v1/sizes", (b: { error: { code: string } }) => expect(b.error.code).toBe("invalid_request")],
    ["POST", "/hosts/web", (b: { error: string }) => expect(b.error).toContain("nested")],
    ["POST", "/api/v1/vm", (b: { ok: boolean; reason: string }) => expect(b).toMatchObject({ ok: false })],
  ] as const) {
    test(`${method} ${path}: 400 in the front's shape for 50 000 levels of objects or arrays`, async () => {
      for (const raw of [deepObject(50_000), deepArray(100_000)]) {
        const r = await t.api.raw(method, path, raw);
        expect(r.status).toBe(400);
        (check as (b: unknown) => void)(r.body);
      }
    });
  }

  test("a body at the limit is validated as usual (unknown field: 400 from the schema)", async () => {
    const r = await t.api.raw("POST", "/v1/sizes", deepObject(MAX_BODY_DEPTH - 1));
    expect(r.status).toBe(400);
    expect(r.body.error.message).not.toContain("nested");
  });
});

describe("string bodies", () => {
  test("text/plain or a JSON string on a route that takes an object: 415 at once, whatever its size", async () => {
    const big = "x".repeat(4 << 20);
    for (const [type, raw] of [
      ["text/plain", big],
      ["application/json", JSON.stringify(big)],
    ] as const) {
      const t0 = performance.now();
      const res = await t.api.app.handle(
        new Request("http://localhost/v1/vms/ubg-nope", {
          method: "PATCH",
          headers: { "content-type": type },
          body: raw,
        }),
      );
      expect(res.status).toBe(415);
      expect((await json(res)).error.code).toBe("unsupported_media_type");
      // Before the guard this took 15-40 s: Elysia spread the string into one object key per character.
      expect(performance.now() - t0).toBeLessThan(2000);
    }
  });
});
