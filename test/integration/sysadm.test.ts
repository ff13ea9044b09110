// The sysadm iohyve front on real libvirtd over wss: fetchiso (file:// within import_dirs), create, install, start, the disks hot, stop, delete.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SYSTEM } from "../../src/core/auth/index.ts";
import { createNetwork, deleteNetwork } from "../../src/core/networks/index.ts";
import { type RunningBerth, startBerth } from "../../src/server.ts";
import { testConfig } from "../support/core.ts";
import { WORKERS } from "../support/workers.ts";
import { SysadmClient } from "../unit/sysadm/client.ts";
import { freePort } from "../unit/sysadm/support.ts";
import { integrationReady, SYSTEM_URI } from "./support/env.ts";

const tag = `sa${process.pid}`;

describe.skipIf(!integrationReady())("the sysadm iohyve front on libvirtd", () => {
  let berth: RunningBerth;
  let root: SysadmClient;
  const storage = `berth-it-${tag}`;
  const dir = mkdtempSync(join(tmpdir(), "berth-sysadm-"));
  const isoFile = join(dir, `${tag}.iso`);
  const guest = `${tag}-g`;
  const network = `${tag}-nat`;

  beforeAll(async () => {
    mkdirSync(join(dir, "tree"));
    writeFileSync(join(dir, "tree", "README"), "an installer");
    const made = Bun.spawnSync(["genisoimage", "-quiet", "-V", "SYSADM", "-o", isoFile, join(dir, "tree")]);
    if (made.exitCode !== 0) throw new Error(made.stderr.toString());
    const hash = await Bun.password.hash("root-pw", { algorithm: "argon2id" });
    const ws = `127.0.0.1:${freePort()}`;
    const config = testConfig(
      `listen = "127.0.0.1:${freePort()}"
[hypervisor]
domain_type = "qemu"
workers = 2
[storage]
pool = "${storage}"
[images]
import_dirs = ["${dir}"]
[demo]
enabled = false
[network]
manage_bridges = false
[pvc]
listen = ""
[sysadm]
listen_ws = "${ws}"
listen_rest = ""
network = "${network}"
[auth]
enabled = true
[[auth.users]]
name = "root"
password_hash = "${hash}"
admin = true
`,
      { BERTH_HYPERVISOR_URI: SYSTEM_URI },
    );
    chmodSync(config.data_dir, 0o711); // QEMU must reach the pool below it
    berth = await startBerth(config, WORKERS);
    await createNetwork(berth.core, SYSTEM, { name: network, mode: "nat", subnet: "192.168.246.0/24" });
    root = await SysadmClient.open(ws, readFileSync(`${config.data_dir}/sysadm/server.crt`, "utf8"));
    const ok = await root.login("root", "root-pw");
    if (!Array.isArray(ok.args)) throw new Error(`login: ${JSON.stringify(ok)}`);
  }, 120_000);

  afterAll(async () => {
    root?.close();
    if (!berth) return;
    const { hv } = berth.core;
    await hv.call("domain.destroy", { name: guest }).catch(() => undefined);
    await hv.call("domain.undefine", { name: guest }).catch(() => undefined);
    await deleteNetwork(berth.core, SYSTEM, network).catch(() => undefined);
    await hv.call("pool.destroy", { pool: storage }).catch(() => undefined);
    await hv.call("pool.undefine", { pool: storage }).catch(() => undefined);
    await berth.stop();
  }, 60_000);

  const listed = async () =>
    (await root.iohyve({ action: "listvms" })).listvms as Record<string, Record<string, string>>;

  test("fetchiso, create, install, listvms, adddisk/listdisks/resizedisk/deletedisk running, stop, delete, rmiso", async () => {
    await root.request("events", "subscribe", "dispatcher");
    expect((await root.iohyve({ action: "fetchiso", url: `file://${isoFile}` })).fetchiso).toEqual(
      expect.objectContaining({ comment: "Task Queued" }),
    );
    const done = await root.next(
      (f) => f.name === "dispatcher" && (f.args as { state?: string }).state === "finished",
      60_000,
    );
    expect(done.args).toEqual(expect.objectContaining({ filename: `${tag}.iso`, percent_done: "100%" }));
    expect(await root.iohyve({ action: "listisos" })).toEqual({ listisos: [`${tag}.iso`] });

    expect(await root.iohyve({ action: "create", name: guest, size: "1G" })).toEqual({
      create: { name: guest, size: "1G" },
    });
    expect((await listed())[guest]).toEqual(expect.objectContaining({ running: "NO" }));
    // iohyve's defaults: 1 CPU, 512M, a NIC on [sysadm] network.
    expect(
      ((await root.iohyve({ action: "getprops", name: guest })).getprops as Record<string, unknown>)[guest],
    ).toEqual(expect.objectContaining({ cpu: "1", ram: "512M", size: "1G", tap: network }));
    expect(await root.iohyve({ action: "install", name: guest, iso: `${tag}.iso` })).toEqual({
      install: { name: guest, iso: `${tag}.iso` },
    });
    expect((await listed())[guest]).toEqual(expect.objectContaining({ vmm: "YES", running: "YES" }));
    const dom = Bun.spawnSync(["virsh", "-c", SYSTEM_URI, "dumpxml", guest]).stdout.toString();
    expect(dom).toContain(`${tag}`);
    expect(dom).toContain("device='cdrom'");

    // The disks while it runs: hot-plugged, grown live, unplugged.
    expect(await root.iohyve({ action: "adddisk", name: guest, size: "1G" })).toEqual({
      adddisk: { [guest]: { size: "1G" } },
    });
    expect(await root.iohyve({ action: "listdisks", name: guest })).toEqual({
      listdisks: { disk0: "1G", disk1: "1G" },
    });
    expect(await root.iohyve({ action: "resizedisk", name: guest, disk: "disk1", size: "2G" })).toEqual({
      resizedisk: { name: guest, disk: "disk1", size: "2G" },
    });
    expect(await root.iohyve({ action: "listdisks", name: guest })).toEqual({
      listdisks: { disk0: "1G", disk1: "2G" },
    });
    expect(await root.iohyve({ action: "deletedisk", name: guest, disk: "disk1" })).toEqual({
      deletedisk: { name: guest, disk: "disk1" },
    });
    expect(await root.iohyve({ action: "listdisks", name: guest })).toEqual({ listdisks: { disk0: "1G" } });

    expect(await root.iohyve({ action: "stop", name: guest, force: "true" })).toEqual({
      stop: { name: guest },
    });
    expect((await listed())[guest]).toEqual(expect.objectContaining({ running: "NO" }));
    expect(await root.iohyve({ action: "delete", name: guest })).toEqual({ delete: { name: guest } });
    expect((await listed())[guest]).toBeUndefined();
    expect(Bun.spawnSync(["virsh", "-c", SYSTEM_URI, "dominfo", guest]).exitCode).not.toBe(0);
    expect(await root.iohyve({ action: "rmiso", target: `${tag}.iso` })).toEqual({
      rmiso: { target: `${tag}.iso` },
    });
  }, 180_000);
});
