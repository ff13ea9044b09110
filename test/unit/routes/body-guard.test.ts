// Bodies no schema accepts are refused before validation: too large (read unbounded before), deep nesting (was a 500),
// bare strings (was seconds of CPU).
import { describe, expect, test } from "bun:test";
import { MAX_BODY_DEPTH, nestedDeeperThan } from "../../../src/routes/body-guard.ts";
import { apiOnFreshCore } from "../../support/api.ts";
import { json } from "../../support/http.ts";

// Room for the 4 MiB strings below; the size limit itself is tested on a core with the default.
const t = apiOnFreshCore("[limits]\nmax_body_bytes = 8388608");
const d = apiOnFreshCore();
const MiB = 1 << 20;

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

/** A body that counts the bytes it was asked for; finite, so code without a limit reads it all and fails, never hangs. */
function counted(total = 32 * MiB) {
  const state = { pulled: 0, cancelled: false };
  const chunk = new Uint8Array(64 * 1024).fill(0x20); // spaces: valid JSON padding
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (state.pulled >= total) return c.close();
        state.pulled += chunk.length;
        c.enqueue(chunk);
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

const send = (
  method: string,
  path: string,
  body: string | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
) =>
  d.api.app.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body,
      duplex: "half",
    } as RequestInit),
  );

describe("body size (limits.max_body_bytes, 1 MiB by default)", () => {
  test("a Content-Length past the limit: 413 payload_too_large before a byte is read", async () => {
    const { stream, state } = counted();
    const res = await send("POST", "/v1/sizes", stream, { "content-length": String(120 * MiB) });
    expect(res.status).toBe(413);
    const body = await json(res);
    expect(body.error).toMatchObject({ code: "payload_too_large", details: { limit_bytes: MiB } });
    expect(body.error.message).toContain("limits.max_body_bytes");
    expect(state.pulled).toBe(0);
  });

  test("a chunked body is cut off just past the limit (413, the rest never read); one within it is parsed", async () => {
    const { stream, state } = counted();
    const t0 = performance.now();
    const cut = await send("POST", "/v1/sizes", stream);
    expect(cut.status).toBe(413);
    expect((await json(cut)).error.code).toBe("payload_too_large");
    expect(state.pulled).toBeGreaterThan(MiB);
    expect(state.pulled).toBeLessThanOrEqual(MiB + 2 * 64 * 1024);
    expect(state.cancelled).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2000);

    const plain = await send(
      "POST",
      "/v1/sizes",
      JSON.stringify({ name: "bg-1cpu", vcpus: 1, memory_mib: 64 }),
    );
    expect(plain.status).toBe(201);
    const text = new TextEncoder().encode(JSON.stringify({ name: "bg-2cpu", vcpus: 2, memory_mib: 64 }));
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(text.subarray(0, 10));
        c.enqueue(text.subarray(10));
        c.close();
      },
    });
    const chunked = await send("POST", "/v1/sizes", chunks);
    expect(chunked.status).toBe(201);
    expect((await json(chunked)).name).toBe("bg-2cpu");
    const bad = await send("POST", "/v1/sizes", "{nope");
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe("invalid_json");
  });

  test("every parser and front: optional bodies, form bodies, staging and vmpooler shapes", async () => {
    const big = JSON.stringify({ pad: "x".repeat(2 * MiB) });
    // Power actions read an optional body with their own parser; Elysia swallows errors of optional ones.
    const start = await send("POST", "/v1/vms/bg-none/start", big);
    expect(start.status).toBe(413);
    expect((await json(start)).error.code).toBe("payload_too_large");
    const form = await send("POST", "/v1/sizes", `a=${"x".repeat(2 * MiB)}`, {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(form.status).toBe(413);
    const staging = await send("POST", "/hosts/bg-web", big);
    expect(staging.status).toBe(413);
    expect((await json(staging)).error).toContain("limits.max_body_bytes");
    const vmpooler = await send("POST", "/api/v1/vm", big);
    expect(vmpooler.status).toBe(413);
    expect(await json(vmpooler)).toMatchObject({ ok: false });
  });
});
