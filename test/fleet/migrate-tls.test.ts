// [fleet] migration_tls: live migration over QEMU's TLS (libvirt told to refuse any other), and a destination without certificates.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { renameSync } from "node:fs";
import { join } from "node:path";
import { FleetClient } from "./support/client.ts";
import * as moves from "./support/moves.ts";
import { run } from "./support/run.ts";
import { CERT_FILES, migrateTlsDirOf } from "./support/tls.ts";
import { fleetUp, type Topology } from "./support/topology.ts";

let fleet: Topology;
let aliceA: FleetClient;

// Runs (SeaBIOS finds nothing to boot and waits): a live QEMU to move, no guest OS needed.
const running = { cpus: 1, memory_mib: 64, root_disk_gb: 1, start: true };
const vmName = (tag: string) => `${tag}-${fleet.id}`;

beforeAll(async () => {
  fleet = await fleetUp(3, { migrationTls: true });
  aliceA = await new FleetClient(fleet.berths.a, "alice").login();
}, 120_000);

afterAll(async () => {
  await fleet?.down();
}, 120_000);

const domains = (host: moves.Host, state?: string) => moves.domains(fleet, host, state);
const claimHost = (name: string) => moves.claimHost(fleet, name);

const migrate = (name: string, host: "a" | "b") =>
  aliceA.call("POST", `/v1/vms/${name}/migrate?wait=true`, { host, live: true }, 180_000);

describe("live migration over TLS", () => {
  const name = () => vmName("tls");

  test("with certificates on both hosts it succeeds (the hosts' libvirt refuses migrations without TLS)", async () => {
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
      `live migration over TLS (TCG, 64 MiB, 1 GiB disk copied): ${(moved.body as { result: { elapsed_ms: number } }).result.elapsed_ms} ms`,
    );
  }, 240_000);

  test("a destination without certificates: the migration fails, the VM keeps running on the source, nothing is left behind", async () => {
    const certs = migrateTlsDirOf(fleet.hosts.a.dir);
    const aside = join(fleet.dir, "a-certs-aside");
    run(["mkdir", "-p", aside]);
    for (const f of CERT_FILES) renameSync(join(certs, f), join(aside, f));
    const failed = await migrate(name(), "a");
    // The destination's QEMU cannot load its TLS credentials: libvirt's error, as the operation's (502 hypervisor_error).
    const error = (failed.body as { error: { code: string; message: string } }).error;
    expect([failed.status, error.code]).toEqual([502, "hypervisor_error"]);
    expect(error.message).toContain("migrate-tls/ca-cert.pem");
    await moves.expectStayed(fleet, aliceA, name(), "b");
    // Certificates back: the same migration now goes through.
    for (const f of CERT_FILES) renameSync(join(aside, f), join(certs, f));
    const back = await migrate(name(), "a");
    expect([back.status, (back.body as { status: string }).status]).toEqual([200, "succeeded"]);
    expect(domains("a", "--state-running")).toEqual([name()]);
    expect(domains("b")).toEqual([]);
    expect((await aliceA.call("DELETE", `/v1/vms/${name()}?wait=true`)).status).toBe(200);
  }, 300_000);
});
