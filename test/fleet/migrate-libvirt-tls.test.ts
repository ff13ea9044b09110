// [fleet] libvirt_transport = "tls": the source libvirtd reaches the destination's over qemu+tls (TCP listeners closed), and a destination that does not trust the source's client certificate.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FleetClient } from "./support/client.ts";
import * as moves from "./support/moves.ts";
import { issueUntrustedClient, libvirtPkiDirOf } from "./support/tls.ts";
import { fleetUp, type Topology } from "./support/topology.ts";

let fleet: Topology;
let aliceA: FleetClient;

// Runs (SeaBIOS finds nothing to boot and waits): a live QEMU to move, no guest OS needed.
const running = { cpus: 1, memory_mib: 64, root_disk_gb: 1, start: true };
const vmName = (tag: string) => `${tag}-${fleet.id}`;

beforeAll(async () => {
  // Both of libvirt's channels over TLS: libvirtd to libvirtd (qemu+tls) and QEMU to QEMU (migration_tls, forced).
  fleet = await fleetUp(3, { libvirtTls: true, migrationTls: true });
  aliceA = await new FleetClient(fleet.berths.a, "alice").login();
}, 120_000);

afterAll(async () => {
  await fleet?.down();
}, 120_000);

const domains = (host: moves.Host, state?: string) => moves.domains(fleet, host, state);
const claimHost = (name: string) => moves.claimHost(fleet, name);

/** Whether something accepts a TCP connection at ip:port (from the root namespace, through the fleet's switch). */
async function accepts(ip: string, port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: ip, port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

const migrate = (name: string, host: "a" | "b") =>
  aliceA.call("POST", `/v1/vms/${name}/migrate?wait=true`, { host, live: true }, 180_000);

describe("live migration with libvirtd's peer-to-peer connection over TLS", () => {
  const name = () => vmName("p2ptls");

  test("the hosts' libvirtd listen on TLS only, and a live migration goes through (qemu+tls)", async () => {
    for (const h of ["a", "b"] as const) {
      expect([h, await accepts(fleet.hosts[h].ip, 16509), await accepts(fleet.hosts[h].ip, 16514)]).toEqual([
        h,
        false,
        true,
      ]);
    }
    const made = await aliceA.call(
      "POST",
      "/v1/vms?wait=true",
      { ...running, name: name(), host: "a" },
      120_000,
    );
    expect(made.status).toBe(200);
    expect(domains("a", "--state-running")).toEqual([name()]);
    const moved = await migrate(name(), "b");
    expect([moved.status, (moved.body as { status: string }).status]).toEqual([200, "succeeded"]);
    expect(domains("b", "--state-running")).toEqual([name()]);
    expect(domains("a")).toEqual([]);
    expect(await claimHost(name())).toBe("b");
    console.info(
      `live migration, libvirtd over qemu+tls and QEMU over TLS (TCG, 64 MiB, 1 GiB disk copied): ${(moved.body as { result: { elapsed_ms: number } }).result.elapsed_ms} ms`,
    );
  }, 240_000);

  test("a destination that does not trust the source's client certificate: the migration fails, the VM keeps running on the source, nothing is left behind", async () => {
    // b (the source now) presents a client certificate from a CA a does not know; b itself still trusts a's server.
    const pki = libvirtPkiDirOf(fleet.hosts.b.dir);
    const aside = join(fleet.dir, "b-pki-aside");
    mkdirSync(aside, { recursive: true });
    const files = ["cacert.pem", "clientcert.pem", "clientkey.pem"];
    for (const f of files) copyFileSync(join(pki, f), join(aside, f));
    const ca = { cert: join(fleet.dir, "ca/ca-cert.pem"), key: join(fleet.dir, "ca/ca-key.pem") };
    issueUntrustedClient(ca, join(fleet.dir, "rogue-ca"), pki, "b", fleet.hosts.b.ip);
    const failed = await migrate(name(), "a");
    const error = (failed.body as { error: { code: string; message: string } }).error;
    console.info(`untrusted client certificate: ${failed.status} ${error?.code}: ${error?.message}`);
    // The handshake completes, then a's libvirtd checks the client certificate and hangs up before confirming.
    expect([failed.status, error.code]).toEqual([502, "hypervisor_error"]);
    expect(error.message).toContain("Unable to read TLS confirmation");
    expect(readFileSync(join(fleet.hosts.a.dir, "log/libvirtd.log"), "utf8")).toContain(
      "Certificate failed validation: The certificate hasn't got a known issuer",
    );
    await moves.expectStayed(fleet, aliceA, name(), "b");
    // The trusted certificate back: the same migration now goes through.
    for (const f of files) copyFileSync(join(aside, f), join(pki, f));
    const back = await migrate(name(), "a");
    expect([back.status, (back.body as { status: string }).status]).toEqual([200, "succeeded"]);
    expect(domains("a", "--state-running")).toEqual([name()]);
    expect(domains("b")).toEqual([]);
    expect((await aliceA.call("DELETE", `/v1/vms/${name()}?wait=true`)).status).toBe(200);
  }, 300_000);
});
