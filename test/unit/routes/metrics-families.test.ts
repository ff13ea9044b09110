// GET /metrics, parsed by parse-prometheus-text-format: build info, process, HTTP by route template, libvirt calls, VMs by state, pools, users; series at 0 from the start.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { issueToken } from "../../../src/core/auth/tokens.ts";
import { recordPass } from "../../../src/core/reconcile/passes.ts";
import { HypervisorTimeout } from "../../../src/errors.ts";
import { createApp } from "../../../src/routes/app.ts";
import { testConfig, testCore } from "../../support/core.ts";

interface Sample {
  labels?: Record<string, string>;
  value?: string;
  count?: string;
  sum?: string;
  buckets?: Record<string, string>;
}
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}

let core: Awaited<ReturnType<typeof testCore>>;
let app: ReturnType<typeof createApp>;
let adminToken = "";
const TOKEN_PW = "carol-pw";

beforeAll(async () => {
  const hash = await Bun.password.hash(TOKEN_PW, { algorithm: "argon2id" });
  core = await testCore(
    testConfig(`[auth]
enabled = true
[[auth.users]]
name = "carol"
password_hash = "${hash}"
admin = true
[[sizes]]
name = "mfam1"
vcpus = 1
memory_mib = 64
[[pools]]
name = "mfam-pool"
image = "mfam-none"
vm_size = "mfam1"
size = 0
`),
  );
  const { syncDeclaredPools } = await import("../../../src/core/pools/declared.ts");
  syncDeclaredPools(core);
  app = createApp(core);
  adminToken = issueToken(core, { name: "carol", admin: true, tokenId: null }).token;
}, 30_000);
afterAll(async () => {
  await core.close();
});

/** One scrape: an admin's (with its token, as Prometheus sends one) unless `anonymous`. */
async function scrape(anonymous = false): Promise<{ text: string; families: Map<string, Family> }> {
  const headers: Record<string, string> = anonymous ? {} : { authorization: `Bearer ${adminToken}` };
  const res = await app.handle(new Request("http://localhost/metrics", { headers }));
  expect(res.status).toBe(200);
  const text = await res.text();
  const parsed = parsePrometheusTextFormat(text) as Family[];
  const families = new Map<string, Family>();
  for (const f of parsed) {
    expect(families.has(f.name), `family ${f.name} twice`).toBe(false);
    families.set(f.name, f);
  }
  return { text, families };
}

const sample = (f: Family | undefined, labels: Record<string, string>) =>
  f?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));

/**
 * A histogram series read from the text (the parser folds a histogram's label sets into one, so its
 * samples are looked up line by line): count, sum and buckets by `le`.
 */
function histogram(text: string, name: string, labels: Record<string, string>) {
  const out = { count: Number.NaN, sum: Number.NaN, buckets: {} as Record<string, number> };
  for (const line of text.split("\n")) {
    const m = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || !(m[1] as string).startsWith(name)) continue;
    const ls = Object.fromEntries(
      [...(m[2] as string).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]),
    );
    if (!Object.entries(labels).every(([k, v]) => ls[k] === v)) continue;
    const { le, ...rest } = ls;
    if (Object.keys(rest).length !== Object.keys(labels).length) continue;
    const v = Number(m[3]);
    if (m[1] === `${name}_count`) out.count = v;
    else if (m[1] === `${name}_sum`) out.sum = v;
    else if (m[1] === `${name}_bucket` && le !== undefined) out.buckets[le] = v;
  }
  return out;
}

describe("GET /metrics families", () => {
  test("the text parses, every family once, each series once", async () => {
    const { families } = await scrape();
    for (const f of families.values()) {
      const keys = f.metrics.map((m) => JSON.stringify(Object.entries(m.labels ?? {}).sort()));
      expect(new Set(keys).size, f.name).toBe(keys.length);
    }
  });

  test("build info and process metrics", async () => {
    const { families } = await scrape();
    const info = families.get("berth_build_info");
    expect(info?.type).toBe("GAUGE");
    expect(info?.metrics).toEqual([
      {
        labels: {
          version: expect.stringMatching(/^\d+\.\d+\.\d+/),
          bun_version: Bun.version,
          domain_type: expect.any(String),
        },
        value: "1",
      },
    ]);
    expect(Number(families.get("process_resident_memory_bytes")?.metrics[0]?.value)).toBeGreaterThan(1e6);
    expect(Number(families.get("process_cpu_seconds_total")?.metrics[0]?.value)).toBeGreaterThan(0);
    expect(Number(families.get("process_open_fds")?.metrics[0]?.value)).toBeGreaterThan(2);
    const start = Number(families.get("process_start_time_seconds")?.metrics[0]?.value);
    expect(start).toBeLessThanOrEqual(Date.now() / 1000);
    expect(start).toBeGreaterThan(Date.now() / 1000 - 3600);
  });

  test("series exist at 0 before anything happens: every VM state, pool, user, route and libvirt call", async () => {
    const { families, text } = await scrape();
    for (const state of ["creating", "running", "stopped", "paused", "error", "gone"])
      expect(sample(families.get("berth_vms"), { state })?.value).toBe("0");
    expect(sample(families.get("berth_pool_failures"), { pool: "mfam-pool" })?.value).toBe("0");
    expect(sample(families.get("berth_pool_draining"), { pool: "mfam-pool" })?.value).toBe("0");
    for (const name of ["berth_user_vms", "berth_user_vcpus", "berth_user_memory_bytes"])
      expect(sample(families.get(name), { owner: "carol" })?.value, name).toBe("0");
    const requests = families.get("berth_http_requests_total");
    expect(requests?.type).toBe("COUNTER");
    for (const status of ["2xx", "3xx", "4xx", "5xx"])
      expect(sample(requests, { method: "POST", route: "/v1/vms/:name/start", status })?.value).toBe("0");
    expect(families.get("berth_http_request_duration_seconds")?.type).toBe("HISTOGRAM");
    const latency = histogram(text, "berth_http_request_duration_seconds", {
      method: "DELETE",
      route: "/v1/vms/:name",
    });
    expect(latency.count).toBe(0);
    expect(Object.keys(latency.buckets)).toContain("+Inf");
    expect(Object.values(latency.buckets).every((v) => v === 0)).toBe(true);
    for (const call of ["domain.create", "domain.destroy", "volume.createFrom"]) {
      expect(sample(families.get("berth_libvirt_call_timeouts_total"), { call })?.value).toBe("0");
      expect(histogram(text, "berth_libvirt_call_duration_seconds", { call }).count).toBe(0);
    }
  });

  test("reconcile passes: 0 before the first; each pass counts by outcome and stamps its end and length", async () => {
    const value = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) =>
      Number(sample(families.get(name), labels)?.value);
    const before = (await scrape()).families;
    expect(before.get("berth_reconcile_passes_total")?.type).toBe("COUNTER");
    expect(value(before, "berth_reconcile_passes_total", { outcome: "ok" })).toBe(0);
    expect(value(before, "berth_reconcile_passes_total", { outcome: "errors" })).toBe(0);
    expect(value(before, "berth_reconcile_last_pass_timestamp_seconds")).toBe(0);
    recordPass(core, "ok", 1_700_000_000_000, 120);
    recordPass(core, "errors", 1_700_000_060_000, 250);
    const after = (await scrape()).families;
    expect(value(after, "berth_reconcile_passes_total", { outcome: "ok" })).toBe(1);
    expect(value(after, "berth_reconcile_passes_total", { outcome: "errors" })).toBe(1);
    expect(value(after, "berth_reconcile_last_pass_timestamp_seconds")).toBe(1_700_000_060);
    expect(value(after, "berth_reconcile_last_pass_duration_seconds")).toBe(0.25);
  });

  test("a request increments its route template's histogram and status class, never a series named by the raw path", async () => {
    const route = { method: "GET", route: "/v1/vms/:name" };
    const before = await scrape();
    const count0 = histogram(before.text, "berth_http_request_duration_seconds", route).count;
    const n4xx0 = Number(
      sample(before.families.get("berth_http_requests_total"), { ...route, status: "4xx" })?.value,
    );
    const res = await app.handle(new Request("http://localhost/v1/vms/mfam-no-such-vm"));
    expect(res.status).toBe(404);
    await Bun.sleep(20);
    const after = await scrape();
    const h = histogram(after.text, "berth_http_request_duration_seconds", route);
    expect(h.count).toBe(count0 + 1);
    expect(h.buckets["10"]).toBe(count0 + 1);
    expect(h.buckets["+Inf"]).toBe(count0 + 1);
    expect(
      Number(sample(after.families.get("berth_http_requests_total"), { ...route, status: "4xx" })?.value),
    ).toBe(n4xx0 + 1);
    expect(after.text).not.toContain("mfam-no-such-vm");
  });

  test("a request the auth guard refuses before routing counts under its route template", async () => {
    const labels = { method: "POST", route: "/v1/vms/:name/start", status: "4xx" };
    const n0 = Number(sample((await scrape()).families.get("berth_http_requests_total"), labels)?.value);
    const res = await app.handle(new Request("http://localhost/v1/vms/mfam-x/start", { method: "POST" }));
    expect(res.status).toBe(401);
    const after = await scrape();
    expect(Number(sample(after.families.get("berth_http_requests_total"), labels)?.value)).toBe(n0 + 1);
    expect(after.text).not.toContain("mfam-x");
  });

  test("a libvirt call is timed under its call name", async () => {
    const count = async () =>
      histogram((await scrape()).text, "berth_libvirt_call_duration_seconds", { call: "domain.list" }).count;
    const c0 = await count();
    await core.hv.call("domain.list", {});
    expect(await count()).toBe(c0 + 1);
  });

  test("a libvirt call past its deadline counts as a timeout of its call", async () => {
    const timeouts = async () =>
      Number(
        sample((await scrape()).families.get("berth_libvirt_call_timeouts_total"), { call: "debug.block" })
          ?.value ?? 0,
      );
    const t0 = await timeouts();
    const err = await core.hv.call("debug.block", { ms: 1500 }, { timeoutMs: 100 }).catch((e) => e);
    expect(err).toBeInstanceOf(HypervisorTimeout);
    expect(await timeouts()).toBe(t0 + 1);
    // The replaced Worker reconnects before the core closes.
    for (let i = 0; i < 50 && core.hv.state !== "up"; i++) await Bun.sleep(50);
  });

  test("with auth on, only an admin's scrape has each owner's usage (user names)", async () => {
    const anonymous = await scrape(true);
    for (const name of ["berth_user_vms", "berth_user_vcpus", "berth_user_memory_bytes"])
      expect(anonymous.families.has(name), name).toBe(false);
    expect(anonymous.text).not.toContain('owner="carol"');
    expect(anonymous.families.has("berth_vms")).toBe(true);
    expect((await scrape()).families.has("berth_user_vms")).toBe(true);
  });
});
