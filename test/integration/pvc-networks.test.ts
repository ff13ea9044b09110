// PVC's networks on real libvirtd over a real socket (curl): a managed network's reservation reaches the tiny guest, ACLs really drop its traffic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { listenerPlan } from "../../src/config/fronts.ts";
import { listTable } from "../../src/core/net/nft.ts";
import { createApp } from "../../src/routes/app.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady } from "./support/env.ts";
import { consoleReports } from "./support/guest.ts";
import { type TinyPoolEnv, tinyPoolEnv } from "./support/tiny-pool.ts";

const tag = `pn${process.pid}`;
const TABLE = `bi${process.pid}`;
const VNI = String(3000 + (process.pid % 1000));
const NET = `lan${tag}`;
const VM = `${tag}-g`;
const SUBNET = "10.217.44";
const RESERVED = `${SUBNET}.50`;
const OVS_BRIDGE = `pvb${process.pid % 100000}`;

describe.skipIf(!integrationReady())("PVC's networks on libvirtd", () => {
  let env: TinyPoolEnv;
  let server: ReturnType<typeof Bun.serve>;
  let base = "";

  /** curl as a PVC client sends it (`-d a=b`): status and JSON body. */
  async function curl(path: string, ...args: string[]): Promise<{ status: number; body: Json }> {
    const p = Bun.spawn(["curl", "-sS", "-w", "\n%{http_code}", `${base}/api/v1${path}`, ...args], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await new Response(p.stdout).text();
    if ((await p.exited) !== 0) throw new Error(`curl ${path}: ${await new Response(p.stderr).text()}`);
    const cut = out.lastIndexOf("\n");
    const text = out.slice(0, cut);
    return { status: Number(out.slice(cut + 1)), body: text ? JSON.parse(text) : null };
  }

  /** Whether the guest's HTTP server answers the host within 3 s. */
  const answers = () =>
    fetch(`http://${RESERVED}:8080/`, { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.ok,
      () => false,
    );

  beforeAll(async () => {
    env = await tinyPoolEnv(
      tag,
      "192.168.221.0/24",
      `[pvc]\nlisten = "127.0.0.1:0"\nacl_table = "${TABLE}"\nbridge = "${OVS_BRIDGE}"\n[network]\novs_datapath = "netdev"\nmanage_bridges = true\n`,
    );
    const plan = listenerPlan(env.core.config).find((l) => l.fronts.some((f) => f.front === "pvc"));
    const app = createApp(env.core, plan);
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => app.handle(r) });
    base = `http://127.0.0.1:${server.port}`;
  }, 600_000);

  afterAll(async () => {
    server?.stop(true);
    await env?.api.delete(`/v1/vms/${VM}?wait=true`);
    await env?.api.delete(`/v1/networks/pvc-${VNI}`);
    await env?.api.delete(`/v1/networks/pvc-${Number(VNI) - 2000}`);
    Bun.spawnSync(["nft", "delete", "table", "inet", TABLE], { stderr: "ignore" });
    await env?.teardown();
  }, 180_000);

  test("a bridged network is an OVS VLAN: the VNI tags it on [pvc] bridge, made and removed with it", async () => {
    const vni = String(Number(VNI) - 2000);
    const brExists = () => Bun.spawnSync(["ovs-vsctl", "br-exists", OVS_BRIDGE]).exitCode === 0;
    expect(brExists()).toBe(false);
    const add = await curl(`/network/vlan${tag}/add`, "-d", `vni=${vni}`, "-d", "nettype=bridged");
    expect(add).toEqual({ status: 200, body: { message: `Network 'vlan${tag}' added successfully!` } });
    expect(brExists()).toBe(true);
    const xml = await env.core.hv.call("network.xml", { name: `pvc-${vni}` });
    expect(xml).toContain(`<bridge name='${OVS_BRIDGE}'/>`);
    expect(xml).toContain(`<tag id='${vni}'/>`);
    expect((await curl(`/network/${vni}`)).body[0]).toMatchObject({ vni, type: "bridged" });
    expect((await curl(`/network/vlan${tag}/remove`, "-X", "POST")).status).toBe(200);
    expect(brExists()).toBe(false);
  }, 60_000);

  test("a managed network's static reservation is the address the booting guest receives", async () => {
    const add = await curl(
      `/network/${NET}/add`,
      ...["-d", `vni=${VNI}`, "-d", "nettype=managed", "-d", `ip4_network=${SUBNET}.0/24`],
      ...["-d", `ip4_gateway=${SUBNET}.1`, "-d", "flag_dhcp4", "-d", `dhcp4_start=${SUBNET}.100`],
      ...["-d", `dhcp4_end=${SUBNET}.199`],
    );
    expect(add).toEqual({ status: 200, body: { message: `Network '${NET}' added successfully!` } });
    const made = await env.api.post("/v1/vms?wait=true", {
      name: VM,
      profile: env.profile,
      networks: [`pvc-${VNI}`],
      start: false,
    });
    expect(made.status).toBe(200);
    const vm = made.body.result;
    const mac = vm.nics[0].mac as string;
    const reserve = await curl(
      `/network/${VNI}/dhcp/${mac}/add`,
      "-d",
      `ipaddress=${RESERVED}`,
      "-d",
      "hostname=guest",
    );
    expect(reserve).toEqual({
      status: 200,
      body: { message: `DHCP reservation '${mac}' added successfully!` },
    });
    expect((await env.api.post(`/v1/vms/${VM}/start?wait=true`, {})).status).toBeLessThan(300);
    const log = `${env.core.config.data_dir}/console/${vm.id}.log`;
    await waitFor(
      () => consoleReports(log).includes(`ip eth0 ${RESERVED}`),
      90_000,
      "the reserved address in the guest",
    );
    const leases = await curl(`/network/${NET}/dhcp`);
    expect(leases.body).toContainEqual({
      hostname: "guest",
      ip4_address: RESERVED,
      mac_address: mac,
      timestamp: "static",
    });
    expect(leases.body).toContainEqual({
      hostname: expect.any(String),
      ip4_address: RESERVED,
      mac_address: mac,
      timestamp: expect.stringMatching(/^\d+$/),
    });
    await waitFor(answers, 60_000, "the guest's HTTP server");
  }, 240_000);

  test("an in and an out drop rule really stop the guest's traffic; removing them restores it", async () => {
    for (const [direction, rule] of [
      ["in", "tcp dport 8080 drop"],
      ["out", "tcp sport 8080 drop"],
    ] as const) {
      const name = `block-${direction}`;
      const add = await curl(
        `/network/${NET}/acl/${name}/add`,
        "-d",
        `direction=${direction}`,
        "-d",
        `rule=${rule}`,
      );
      expect(add).toEqual({ status: 200, body: { message: `Firewall rule '${name}' added successfully!` } });
      expect(await answers()).toBe(false);
      expect((await curl(`/network/${NET}/acl/${name}/remove`, "-X", "POST")).status).toBe(200);
      expect(await answers()).toBe(true);
    }
  }, 60_000);

  test("a malformed rule is 510 and leaves nftables as it was", async () => {
    await curl(`/network/${NET}/acl/keep/add`, "-d", "direction=in", "-d", "rule=tcp dport 9 counter");
    const before = await listTable("inet", TABLE);
    expect(before).toContain("tcp dport 9 counter");
    const bad = await curl(
      `/network/${NET}/acl/bad/add`,
      "-d",
      "direction=in",
      "-d",
      "rule=tcp dport eighty drop",
    );
    expect(bad.status).toBe(510);
    expect(bad.body.message).toStartWith("ERROR: nftables refused the rules");
    const breakout = await curl(
      `/network/${NET}/acl/esc/add`,
      "-d",
      "direction=in",
      "--data-urlencode",
      "rule=drop; flush ruleset",
    );
    expect(breakout.status).toBe(510);
    expect(await listTable("inet", TABLE)).toBe(before);
    expect(await answers()).toBe(true);
  }, 60_000);

  test("removing the network takes its ACL chains with it", async () => {
    expect((await env.api.delete(`/v1/vms/${VM}?wait=true`)).status).toBeLessThan(300);
    expect(await curl(`/network/${NET}/remove`, "-X", "POST")).toEqual({
      status: 200,
      body: { message: `Network '${NET}' removed successfully!` },
    });
    expect(await listTable("inet", TABLE)).toBeNull();
    expect((await env.core.hv.call("network.list", {})).some((n) => n.name === `pvc-${VNI}`)).toBe(false);
  }, 120_000);
});
