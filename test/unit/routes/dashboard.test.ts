// The dashboard's page and assets as HTTP: on the native front's claimed paths, compressed, cacheable by ETag, under a strict CSP.
import { expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { frontOn, mainListener } from "../../../src/config/fronts.ts";
import { parseConfig } from "../../../src/config/load.ts";
import { createApp } from "../../../src/routes/app.ts";
import { apiOnFreshCore } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

const t = apiOnFreshCore();
const get = (path: string, headers: Record<string, string> = {}) =>
  t.api.app.handle(new Request(`http://localhost${path}`, { headers }));

/** The page's script and stylesheet URLs. */
async function assetPaths(): Promise<{ script: string; style: string }> {
  const html = await (await get("/")).text();
  const script = /<script type="module" src="(\/ui\/app-[a-z0-9]+\.js)"><\/script>/.exec(html)?.[1];
  const style = /<link rel="stylesheet" href="(\/ui\/app-[a-z0-9]+\.css)" \/>/.exec(html)?.[1];
  if (!script || !style) throw new Error(`the page names no script or stylesheet:\n${html}`);
  return { script, style };
}

test("/ is the page under a CSP that allows this origin only and no inline code; it is revalidated, not cached blind", async () => {
  const res = await get("/");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(res.headers.get("cache-control")).toBe("no-cache");
  const csp = res.headers.get("content-security-policy") ?? "";
  for (const d of [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
  ]) {
    expect(csp).toContain(d);
  }
  expect(csp).not.toContain("unsafe-inline");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  const html = await res.text();
  // Nothing inline for the CSP to refuse, and no other host named.
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(html).not.toContain("<style");
  expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  expect(html).toContain('<meta name="berth-auth" content="off" />');
});

test("its script and stylesheet are gzip'd when accepted, identical once decoded, cached for good and answered 304 by ETag", async () => {
  for (const [path, type] of Object.entries(await assetPaths()).map(([k, p]) => [p, k] as const)) {
    const plain = await get(path, { "accept-encoding": "identity" });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toStartWith(type === "script" ? "text/javascript" : "text/css");
    expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const bytes = new Uint8Array(await plain.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(1000);
    const zipped = await get(path, { "accept-encoding": "gzip" });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    const packed = new Uint8Array(await zipped.arrayBuffer());
    expect(packed.length).toBeLessThan(bytes.length / 2);
    expect(new Uint8Array(gunzipSync(packed))).toEqual(bytes);
    const etag = zipped.headers.get("etag") as string;
    const again = await get(path, { "accept-encoding": "gzip", "if-none-match": etag });
    expect(again.status).toBe(304);
  }
  // The bundle carries uPlot and the page's own code, nothing to load from elsewhere.
  const js = await (await get((await assetPaths()).script)).text();
  expect(js).toContain("/v1/events");
  expect(js).not.toMatch(/import\s*\(|from\s*["']https?:/);
  expect((await get("/ui/app-nothing.js")).status).toBe(404);
});

test("with [auth] on the page says so, so it asks for a token before anything else", async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id", memoryCost: 1024, timeCost: 1 });
  const core = await testCore(
    testConfig(`[auth]\nenabled = true\n[[auth.users]]\nname = "a"\npassword_hash = "${hash}"`),
  );
  try {
    const html = await (await createApp(core).handle(new Request("http://localhost/"))).text();
    expect(html).toContain('<meta name="berth-auth" content="on" />');
  } finally {
    await core.close();
  }
});

test("/ and /ui are the native front's on the main listener: a front placed over them is a config error", () => {
  const main = mainListener(parseConfig("", "t"));
  expect(frontOn(main, "/")).toBe("native");
  expect(frontOn(main, "/ui/app-x.js")).toBe("native");
  expect(() => parseConfig('[vmpooler]\nprefix = "/ui"', "t")).toThrow(
    "native front's /ui overlaps the vmpooler front's /ui",
  );
  // "/" claims the page alone: the staging agent's /hosts beside it is no collision.
  expect(() => parseConfig("", "t")).not.toThrow();
});
