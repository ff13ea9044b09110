// /docs (with or without its trailing slash), its script and /openapi.json: offline-only page options, compressed when accepted, cacheable by ETag.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { createApp } from "../../../src/routes/app.ts";
import { testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let app: ReturnType<typeof createApp>;
beforeAll(async () => {
  core = await testCore();
  app = createApp(core);
});
afterAll(() => core.close());

const get = (path: string, headers: Record<string, string> = {}) =>
  app.handle(new Request(`http://localhost${path}`, { headers }));

/** The Scalar configuration the page hands its script. */
async function pageConfig(path: string): Promise<Record<string, unknown>> {
  const html = await (await get(path)).text();
  const m = /data-configuration='([^']*)'/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse((m as RegExpExecArray)[1] as string);
}

test("/docs and /docs/ serve the same page, which loads the spec by an absolute path", async () => {
  const [a, b] = [await get("/docs"), await get("/docs/")];
  expect([a.status, b.status]).toEqual([200, 200]);
  expect(b.headers.get("content-type")).toContain("text/html");
  expect(await b.text()).toBe(await a.text());
  // A relative "openapi.json" would resolve to /docs/openapi.json under the trailing slash.
  expect((await pageConfig("/docs/")).url).toBe("/openapi.json");
});

test("the page turns off what needs the internet: the request client (a scalar.com proxy), fonts, telemetry, agent, MCP", async () => {
  const config = await pageConfig("/docs");
  expect(config).toMatchObject({
    hideClientButton: true,
    hideTestRequestButton: true,
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: "never",
  });
  expect(config.proxyUrl).toBeUndefined();
  expect(await (await get("/docs")).text()).not.toMatch(/https?:\/\//);
});

for (const path of ["/docs/", "/docs/assets/scalar.js", "/openapi.json"]) {
  test(`${path} is compressed as the client accepts (br first, then gzip), else plain`, async () => {
    const plain = new Uint8Array(await (await get(path)).arrayBuffer());
    const br = await get(path, { "accept-encoding": "gzip, deflate, br" });
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(br.headers.get("vary")).toBe("Accept-Encoding");
    const brBytes = new Uint8Array(await br.arrayBuffer());
    expect(brBytes.byteLength).toBeLessThan(plain.byteLength);
    expect(new Uint8Array(brotliDecompressSync(brBytes))).toEqual(plain);
    const gz = await get(path, { "accept-encoding": "gzip;q=1, br;q=0" });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(new Uint8Array(gunzipSync(new Uint8Array(await gz.arrayBuffer())))).toEqual(plain);
    const none = await get(path, { "accept-encoding": "identity" });
    expect(none.headers.get("content-encoding")).toBeNull();
  });

  test(`${path} answers 304 to its own ETag, and the ETag names the build`, async () => {
    const first = await get(path, { "accept-encoding": "gzip" });
    const etag = first.headers.get("etag") as string;
    expect(etag).toMatch(/^"\d+\.\d+\.\d+[^"]*-gzip"$/);
    expect(first.headers.get("cache-control")).toBeTruthy();
    const again = await get(path, { "accept-encoding": "gzip", "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    // Another representation is another entity: its tag does not match.
    expect((await get(path, { "accept-encoding": "br", "if-none-match": etag })).status).toBe(200);
  });
}
