// A running berth serves every listener of its plan over real sockets: each front at its real paths on its own, in its own shape.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AppError } from "../../src/errors.ts";
import { type RunningBerth, startBerth } from "../../src/server.ts";
import { testConfig } from "../support/core.ts";
import { json } from "../support/http.ts";
import { WORKERS } from "../support/workers.ts";

/** A port nobody listens on right now: the kernel picks it for a throwaway listener. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = probe.port as number;
  probe.stop(true);
  return p;
}

const [main, vmpooler, staging, pvc] = [freePort(), freePort(), freePort(), freePort()];
const toml = `listen = "127.0.0.1:${main}"
[demo]
enabled = false
[network]
manage_bridges = false
[storage]
pool = "ulst-store"
[vmpooler]
listen = "127.0.0.1:${vmpooler}"
[staging]
listen = "127.0.0.1:${staging}"
[pvc]
listen = "127.0.0.1:${pvc}"
`;
let berth: RunningBerth;

beforeAll(async () => {
  berth = await startBerth(testConfig(toml), WORKERS);
});
afterAll(async () => {
  await berth?.stop();
});

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await json(res) };
};

test("vmpooler's own listener answers at its prefix and at the root paths, unknown paths in its shape", async () => {
  for (const path of ["/status", "/api/v1/status"]) {
    const r = await get(vmpooler, path);
    expect({ path, status: r.status, ok: r.body.status?.ok }).toEqual({ path, status: 200, ok: true });
  }
  expect((await get(vmpooler, "/vm")).body).toEqual([]);
  expect((await get(vmpooler, "/dashboard/stats/vmpooler/pool")).status).toBe(200);
  // The native API and the staging agent are not on this listener.
  for (const path of ["/v1/sizes", "/hosts", "/healthz"]) {
    const r = await get(vmpooler, path);
    expect({ path, status: r.status, body: r.body }).toEqual({
      path,
      status: 404,
      body: { ok: false, reason: expect.any(String) },
    });
  }
  // Its own /openapi.json documents what it serves there, and nothing of the other fronts.
  const doc = await get(vmpooler, "/openapi.json");
  const paths = Object.keys(doc.body.paths);
  expect(paths).toContain("/vm");
  expect(paths).toContain("/api/v1/vm");
  expect(paths.filter((p) => p.startsWith("/v1/") || p.startsWith("/hosts"))).toEqual([]);
});

test("the staging agent's own listener answers at its paths only, in its shape", async () => {
  expect((await get(staging, "/hosts")).status).toBe(200);
  const r = await get(staging, "/v1/sizes");
  expect({ status: r.status, body: r.body }).toEqual({ status: 404, body: { error: expect.any(String) } });
});

test("the main listener keeps every front at its usual paths; vmpooler's root paths are not there", async () => {
  expect((await get(main, "/v1/sizes")).status).toBe(200);
  expect((await get(main, "/hosts")).status).toBe(200);
  expect((await get(main, "/api/v1/status")).status).toBe(200);
  const root = await get(main, "/status");
  expect({ status: root.status, code: root.body.error?.code }).toEqual({ status: 404, code: "not_found" });
});

test("a second berth on the same front listener stops before it opens anything", async () => {
  const other = testConfig(
    `listen = "127.0.0.1:${freePort()}"\n[demo]\nenabled = false\n[pvc]\nlisten = ""\n[vmpooler]\nlisten = "127.0.0.1:${vmpooler}"`,
  );
  const e = await startBerth(other, WORKERS).then(
    () => null,
    (x: unknown) => x as AppError,
  );
  expect(e?.errorCode).toBe("address_in_use");
  expect(e?.message).toContain(`127.0.0.1:${vmpooler}`);
  expect(existsSync(join(other.data_dir, "berth.db"))).toBe(false);
});
