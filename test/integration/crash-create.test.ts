// kill -9 berth in the middle of creating a VM, restart it: reconcile leaves no orphan domain, volume or row.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BERTH_NS } from "../../src/xml/domain.ts";
import { testConfig, testCore } from "../support/core.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady, SYSTEM_URI } from "./support/env.ts";

const root = new URL("../..", import.meta.url).pathname;
const POOL = `berth-it-crash-${process.pid}`;
const port = 20_000 + Math.floor(Math.random() * 5000);
const base = `http://127.0.0.1:${port}`;

describe.skipIf(!integrationReady())("crash during create", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-crash-"));
  const configFile = join(dir, "berth.toml");
  let berth: ReturnType<typeof Bun.spawn> | null = null;
  let probe: Awaited<ReturnType<typeof testCore>>;

  const start = async () => {
    berth = Bun.spawn(["bun", join(root, "src/main.ts"), "serve", "--config", configFile], {
      env: { ...process.env, BERTH_CONFIG: "", BERTH_PVC_LISTEN: "", BERTH_SYSADM_ENABLED: "false" },
      stdout: "ignore",
      stderr: "pipe",
    });
    await waitFor(
      async () => (await fetch(`${base}/healthz`).catch(() => null))?.status === 200,
      20_000,
      "berth up",
    );
  };
  const kill9 = async () => {
    berth?.kill("SIGKILL");
    await berth?.exited;
    berth = null;
  };
  const api = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  beforeAll(async () => {
    chmodSync(dir, 0o711);
    writeFileSync(
      configFile,
      [
        `listen = "127.0.0.1:${port}"`,
        `data_dir = "${join(dir, "data")}"`,
        'log_level = "warn"',
        "[hypervisor]",
        `uri = "${SYSTEM_URI}"`,
        'domain_type = "qemu"',
        "[storage]",
        `pool = "${POOL}"`,
        "[reconcile]",
        "interval_s = 5",
        'orphans = "remove"',
      ].join("\n"),
    );
    probe = await testCore(testConfig(`[storage]\npool = "${POOL}"`, { BERTH_HYPERVISOR_URI: SYSTEM_URI }));
    await start();
  }, 60_000);

  afterAll(async () => {
    if (berth) {
      for (const vm of (await api("GET", "/v1/vms")).body ?? [])
        await api("DELETE", `/v1/vms/${vm.name}?wait=true`);
      berth.kill("SIGTERM");
      await berth.exited;
    }
    await probe.hv.call("pool.destroy", { pool: POOL }).catch(() => undefined);
    await probe.hv.call("pool.undefine", { pool: POOL }).catch(() => undefined);
    await probe.close();
  }, 120_000);

  /** berth-marked domains and pool volumes that no VM row accounts for. */
  const orphans = async () => {
    const rows: Json[] = (await api("GET", "/v1/vms")).body;
    const ids = new Set(rows.map((v) => v.id));
    const volumes = new Set(rows.flatMap((v) => v.disks.map((d: Json) => d.volume)));
    const domains = (await probe.hv.call("domain.list", { metadataUri: BERTH_NS }))
      .filter((d) => d.metadata)
      .filter((d) => {
        const vmId = /id="([^"]+)"/.exec(d.metadata ?? "")?.[1];
        return vmId !== undefined && vmId.length === 36 && !ids.has(vmId) && d.name.startsWith("crash-");
      })
      .map((d) => d.name);
    const vols = (await probe.hv.call("volume.list", { pool: POOL }))
      .map((v) => v.name)
      .filter((v) => !volumes.has(v));
    return { domains, vols, creating: rows.filter((v) => v.status === "creating").map((v) => v.name) };
  };

  for (const [i, delayMs] of [0, 40, 120, 300, 700].entries()) {
    test(`killed ${delayMs} ms into a create: after restart nothing is orphaned`, async () => {
      const name = `crash-${i}`;
      const r = await api("POST", "/v1/vms", {
        name,
        cpus: 1,
        memory_mib: 64,
        root_disk_gb: 1,
        disks: [
          { name: "a", size_gb: 1 },
          { name: "b", size_gb: 1 },
        ],
      });
      expect(r.status).toBe(202);
      await Bun.sleep(delayMs);
      await kill9();
      await start();
      // The first reconcile runs at start; the VM is either complete or gone, never half-made.
      await waitFor(
        async () => {
          const vm = await api("GET", `/v1/vms/${name}`);
          return vm.status === 404 || ["running", "stopped"].includes(vm.body.status);
        },
        30_000,
        `${name} settled`,
      );
      expect(await orphans()).toEqual({ domains: [], vols: [], creating: [] });
      const op = await api("GET", `/v1/operations/${r.body.id}`);
      expect(["succeeded", "failed"]).toContain(op.body.status);
      const vm = await api("GET", `/v1/vms/${name}`);
      console.log(
        `kill after ${delayMs} ms: vm ${vm.status === 404 ? "cleaned up" : vm.body.status}, operation ${op.body.status}`,
      );
    }, 90_000);
  }
});
