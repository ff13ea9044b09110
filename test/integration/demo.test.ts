// The demo pool of the berth that ./install.sh installed and started: a checkout hands out a booted VM that answers on its port.
import { describe, expect, test } from "bun:test";
import type { Json } from "../support/http.ts";
import { integrationReady } from "./support/env.ts";

const BASE = "http://127.0.0.1:8470";

/** The installed berth answering: required in CI (install.sh starts it), a skip with a reason elsewhere. */
async function installedBerth(): Promise<boolean> {
  const up = await fetch(`${BASE}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!up && process.env.CI === "true")
    throw new Error(`the berth install.sh started does not answer at ${BASE}`);
  if (!up)
    console.warn(`skipping the demo pool test: no installed berth answers at ${BASE} (run ./install.sh)`);
  return up;
}

const ready = integrationReady() && (await installedBerth());

async function get(path: string): Promise<{ status: number; body: Json }> {
  const r = await fetch(`${BASE}${path}`);
  return { status: r.status, body: (await r.json()) as Json };
}

async function until<T>(what: string, seconds: number, probe: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== null) return v;
    await Bun.sleep(1000);
  }
  throw new Error(`${what}: not within ${seconds} s`);
}

describe.skipIf(!ready)("the installed demo pool", () => {
  test("curl -X POST /api/v1/vm/demo hands out a booted VM with an IP whose web server answers; DELETE returns it", async () => {
    await until("a ready demo VM", 240, async () => {
      const pool = await get("/v1/pools/demo");
      if (pool.status !== 200) throw new Error(`no demo pool: ${JSON.stringify(pool.body)}`);
      return pool.body.counts.ready >= 1 ? true : null;
    });
    const r = await fetch(`${BASE}/api/v1/vm/demo`, { method: "POST" });
    const body = (await r.json()) as Json;
    expect(r.status).toBe(200);
    const host = body.demo.hostname as string;
    expect(typeof host).toBe("string");

    const ip = await until("the VM's address", 60, async () => {
      const a = await get(`/v1/vms/${host}/addresses`);
      const v4 = a.body?.[0]?.addresses?.find((x: { family: string }) => x.family === "ipv4");
      return v4 ? (v4.address as string) : null;
    });
    expect(ip).toMatch(/^192\.168\.147\.[0-9]+$/);
    const page = await until("its web server", 60, async () =>
      fetch(`http://${ip}:8080/`, { signal: AbortSignal.timeout(3000) }).then(
        (res) => (res.ok ? res.text() : null),
        () => null,
      ),
    );
    expect(page).toContain("berth test guest");

    const del = await fetch(`${BASE}/api/v1/vm/${host}`, { method: "DELETE" });
    expect(await del.json()).toEqual({ ok: true });
    await until("the VM gone", 60, async () => ((await get(`/v1/vms/${host}`)).status === 404 ? true : null));
    const pool = await get("/v1/pools/demo");
    expect(pool.body.counts.pending + pool.body.counts.ready).toBe(pool.body.size);
  }, 420_000);
});
