// GET /v1/vms/{name}/xml: an error is JSON labelled as JSON, never as the text/xml of a successful dump.
import { expect, test } from "bun:test";
import { apiOnFreshCore } from "../../support/api.ts";

const t = apiOnFreshCore();

test("404 for an unknown VM and 400 for a bad query answer application/json", async () => {
  for (const [path, status] of [
    ["/v1/vms/uxe-nope/xml", 404],
    ["/v1/vms/uxe-nope/xml?inactive=maybe", 400],
  ] as const) {
    const r = await t.api.get(path);
    expect({ path, status: r.status, type: r.headers.get("content-type") }).toEqual({
      path,
      status,
      type: expect.stringContaining("application/json"),
    });
    expect(typeof r.body.error.code).toBe("string");
  }
});
