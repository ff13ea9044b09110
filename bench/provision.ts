// Provisioning on real libvirtd (TCG, tiny guest): per VM, time to running and to ready (IP known) through
// berth's API, against a qemu-img/virsh shell sequence and virt-install, in the same run.
// Usage: bun bench/provision.ts   (root; env BENCH_PROVISION_N="1,4,8", BENCH_PROVISION_SEQ=4)
import {
  type BaselineVm,
  baselineHasIp,
  baselineVm,
  removeBaseline,
  shellSequence,
  virtInstall,
} from "./support/baselines.ts";
import { libvirtBench } from "./support/libvirt-env.ts";
import { envInt, envList, fmt, printTable, type Table, writeResults } from "./support/report.ts";
import { ratio, type Summary, summarize } from "./support/stats.ts";

const concurrent = envList("BENCH_PROVISION_N", [1, 4, 8]);
const sequential = envInt("BENCH_PROVISION_SEQ", 4);
const READY_TIMEOUT_MS = 120_000;
const tag = `bp${process.pid}`;
const b = await libvirtBench(tag, "192.168.233.0/24");
const { api } = b.env;

interface Method {
  name: "berth" | "shell" | "virt-install";
  create(name: string): Promise<void>;
  ready(name: string): Promise<boolean>;
  remove(names: string[]): Promise<void>;
}

const baseline = (name: Method["name"], make: (vm: BaselineVm) => Promise<void>): Method => ({
  name,
  create: (n) => make(baselineVm(b, n)),
  ready: async (n) => baselineHasIp(baselineVm(b, n)),
  remove: async (ns) => {
    for (const n of ns) removeBaseline(b, baselineVm(b, n));
  },
});

const methods: Method[] = [
  {
    name: "berth",
    async create(name) {
      const r = await api.post("/v1/vms?wait=true", { name, profile: b.profile });
      if (r.status !== 200) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    },
    async ready(name) {
      const nics = (await api.get(`/v1/vms/${name}/addresses`)).body as { addresses: { family: string }[] }[];
      return nics.some((n) => n.addresses.some((a) => a.family === "ipv4"));
    },
    async remove(names) {
      await Promise.all(names.map((n) => api.delete(`/v1/vms/${n}?wait=true`)));
    },
  },
  baseline("shell", (vm) => shellSequence(b, vm)),
  baseline("virt-install", (vm) => virtInstall(b, vm)),
];

/** Starts one VM; `running` resolves when the create call returned, `ready` when the guest has an IPv4. */
function provisionOne(m: Method, name: string, t0: number) {
  const running = m.create(name).then(() => performance.now() - t0);
  const ready = running.then(async () => {
    while (performance.now() - t0 < READY_TIMEOUT_MS) {
      if (await m.ready(name)) return performance.now() - t0;
      await Bun.sleep(100);
    }
    throw new Error(`${m.name} ${name}: no IP within ${READY_TIMEOUT_MS} ms`);
  });
  return { running, ready };
}

interface Batch {
  running: Summary;
  ready: Summary;
  error?: string;
}

/** Concurrent: all at once, each timed from the common start. Sequential: each starts once the previous runs. */
async function batch(m: Method, mode: "concurrent" | "sequential", n: number, seq: number): Promise<Batch> {
  const names = Array.from({ length: n }, (_, i) => `${tag}-${m.name.slice(0, 1)}${seq}-${i}`);
  const started: ReturnType<typeof provisionOne>[] = [];
  try {
    if (mode === "concurrent") {
      const t0 = performance.now();
      for (const name of names) started.push(provisionOne(m, name, t0));
    } else {
      for (const name of names) {
        const p = provisionOne(m, name, performance.now());
        started.push(p);
        await p.running;
      }
    }
    const running = await Promise.all(started.map((p) => p.running));
    const ready = await Promise.all(started.map((p) => p.ready));
    return { running: summarize(running), ready: summarize(ready) };
  } catch (e) {
    await Promise.allSettled(started.flatMap((p) => [p.running, p.ready]));
    return {
      running: summarize([]),
      ready: summarize([]),
      error: e instanceof Error ? e.message : String(e),
    };
  } finally {
    await m.remove(names);
  }
}

const scenarios: { mode: "concurrent" | "sequential"; n: number }[] = [
  ...(sequential > 0 ? [{ mode: "sequential" as const, n: sequential }] : []),
  ...concurrent.map((n) => ({ mode: "concurrent" as const, n })),
];
const results: Record<string, Record<string, Batch>> = {};
try {
  let seq = 0;
  for (const s of scenarios) {
    const key = `${s.mode} N=${s.n}`;
    results[key] = {};
    for (const m of methods) {
      const r = await batch(m, s.mode, s.n, seq++);
      (results[key] as Record<string, Batch>)[m.name] = r;
      console.log(
        `${key} ${m.name}: running median ${fmt(r.running.median / 1000, 2)} s, ready median ${fmt(r.ready.median / 1000, 1)} s${r.error ? ` ERROR ${r.error}` : ""}`,
      );
    }
  }
} finally {
  await b.teardown();
}

const table: Table = {};
const ratios: Table = {};
for (const [key, byMethod] of Object.entries(results)) {
  for (const [name, r] of Object.entries(byMethod)) {
    table[`${key} ${name}`] = {
      "running min s": fmt(r.running.min / 1000, 2),
      "running median s": fmt(r.running.median / 1000, 2),
      "running p99 s": fmt(r.running.p99 / 1000, 2),
      "ready min s": fmt(r.ready.min / 1000, 1),
      "ready median s": fmt(r.ready.median / 1000, 1),
      "ready p99 s": fmt(r.ready.p99 / 1000, 1),
      error: r.error ? r.error.slice(0, 60) : "",
    };
  }
  const berth = byMethod.berth as Batch;
  const vs = (other: string, what: "running" | "ready") => {
    const o = byMethod[other];
    return o && !o.error && !berth.error ? ratio(berth[what].median, o[what].median) : null;
  };
  ratios[key] = {
    "running berth/shell": fmt(vs("shell", "running"), 2),
    "running berth/virt-install": fmt(vs("virt-install", "running"), 2),
    "ready berth/shell": fmt(vs("shell", "ready"), 2),
    "ready berth/virt-install": fmt(vs("virt-install", "ready"), 2),
  };
}
printTable("provisioning on qemu:///system (TCG, tiny guest, 256 MiB, NAT network): seconds per VM", table);
printTable(
  "ratio of medians, berth/baseline (targets: running ≤ 1.0 vs shell, ≤ 0.33 vs virt-install)",
  ratios,
);
writeResults("provision", {
  definitions: {
    running: "the create call returned with the domain running (berth: POST /v1/vms?wait=true)",
    ready:
      "berth: GET /v1/vms/{name}/addresses lists an IPv4 (DHCP lease); baselines: the guest's console printed its IP",
    concurrent: "all N started at once, each timed from the common start",
    sequential: "each VM's create starts when the previous one is running; each timed from its own start",
  },
  results,
});
process.exit(0);
