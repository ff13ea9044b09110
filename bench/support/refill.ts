// A pool refill on libvirt's test driver, in-process: event-loop lag, HTTP-thread CPU and hypervisor calls per VM.
import { readFileSync } from "node:fs";
import { SYSTEM } from "../../src/core/auth/access.ts";
import { createPool } from "../../src/core/pools/pools.ts";
import { listMembers } from "../../src/db/pools.ts";
import { createApp } from "../../src/routes/app.ts";
import { startPoolScheduler } from "../../src/scheduler/pools.ts";
import { startLagProbe } from "../../test/integration/support/lag.ts";
import { testConfig, testCore } from "../../test/support/core.ts";
import type { HttpClient, HttpReply } from "./http.ts";
import { seedTinyProfile, testDriverToml } from "./test-driver.ts";

/** CPU seconds of this process's main thread (its task id is the pid): user + system, 10 ms ticks. */
export function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** An HttpClient over app.handle: the same routes, no socket. */
export function inProcessClient(app: ReturnType<typeof createApp>): HttpClient {
  const call = async (method: string, path: string, body?: unknown): Promise<HttpReply> => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const res = await app.handle(new Request(`http://localhost${path}`, init));
    const text = await res.text();
    return {
      status: res.status,
      body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text,
    };
  };
  return {
    base: "http://localhost",
    get: (p) => call("GET", p),
    post: (p, b) => call("POST", p, b),
    delete: (p) => call("DELETE", p),
    async expect(method, p, want, b) {
      const r = await call(method, p, b);
      if (r.status !== want)
        throw new Error(`${method} ${p}: expected ${want}, got ${r.status} ${JSON.stringify(r.body)}`);
      return r;
    },
  };
}

export interface RefillResult {
  vms: number;
  seconds: number;
  lag: { p99: number; max: number; samples: number };
  cpuMsPerVm: number;
  hvCallsPerVm: Record<string, number>;
}

/** Fills a pool of `size` tiny VMs (readiness `running`) from empty with the scheduler, as `berth serve` runs it. */
export async function measureRefill(size: number, tag = "rf"): Promise<RefillResult> {
  const toml = testDriverToml({ extra: "" }).replace('pool = "bench-store"', `pool = "${tag}-store"`);
  const core = await testCore(testConfig(toml.replace(/^\[hypervisor\]\nuri = "[^"]*"\n/, "[hypervisor]\n")));
  const api = inProcessClient(createApp(core));
  const profile = await seedTinyProfile(api, tag);
  const calls: Record<string, number> = {};
  const call = core.hv.call.bind(core.hv);
  core.hv.call = ((op: string, args: unknown, opts?: { timeoutMs?: number }) => {
    calls[op] = (calls[op] ?? 0) + 1;
    return call(op as never, args as never, opts);
  }) as typeof core.hv.call;
  const scheduler = startPoolScheduler(core);
  try {
    await scheduler.idle();
    const probe = startLagProbe(5);
    const cpu0 = mainThreadCpuMs();
    const t0 = performance.now();
    createPool(core, SYSTEM, { name: `${tag}-pool`, profile, size });
    while (listMembers(core.db, `${tag}-pool`).filter((m) => m.status === "ready").length < size) {
      if (performance.now() - t0 > 600_000) throw new Error(`pool of ${size} not ready within 600 s`);
      await Bun.sleep(50);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpuMsPerVm = (mainThreadCpuMs() - cpu0) / size;
    const lag = probe.stop();
    const hvCallsPerVm = Object.fromEntries(
      Object.entries(calls).map(([k, v]) => [k, Math.round((v / size) * 100) / 100]),
    );
    return { vms: size, seconds, lag, cpuMsPerVm, hvCallsPerVm };
  } finally {
    await scheduler.stop();
    await core.close();
  }
}
