// GET /v1/vms/{name}/xml: an error is JSON labelled as JSON, never as the text/xml of a successful dump.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { apiClient } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await testCore(testConfig());
  api = apiClient(core);
});
afterAll(() => core.close());

test("404 for an unknown VM and 400 for a bad query answer application/json", async () => {
  for (const [path, status] of [
    ["/v1/vms/uxe-nope/xml", 404],
    ["/v1/vms/uxe-nope/xml?inactive=maybe", 400],
  ] as const) {
    const r = await api.get(path);
    expect({ path, status: r.status, type: r.headers.get("content-type") }).toEqual({
      path,
      status,
      type: expect.stringContaining("application/json"),
    });
    expect(typeof r.body.error.code).toBe("string");
  }
});
