// [fleet] settings and placement: a single host has no fleet; a fleet host needs its identity and secret; selectors rank hosts.
import { expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { openFleet } from "../../src/core/fleet/fleet.ts";
import type { HostRecord } from "../../src/core/fleet/members.ts";
import { destinationUri } from "../../src/core/fleet/migrate-live.ts";
import { placeVm } from "../../src/core/fleet/placement.ts";
import { ConfigError } from "../../src/errors.ts";

const host = (name: string, memory_mib: number, vcpus: number, load: number, vms: number): HostRecord => ({
  name,
  api: `http://${name}:8470`,
  migration_address: name,
  version: "0.1.0",
  capacity: { cpus: 8, memory_mib: 16384 },
  allocation: { vcpus, memory_mib },
  load,
  vms,
  updated_at: "2026-01-01T00:00:00Z",
});

const hosts = new Map([
  ["a", host("a", 4096, 2, 0.5, 3)],
  ["b", host("b", 1024, 6, 1.5, 2)],
  ["c", host("c", 2048, 4, 0.1, 1)],
]);

test("no [fleet] section: no fleet", async () => {
  expect(await openFleet(parseConfig("", "empty").fleet)).toBeNull();
});

test("a fleet host needs a name, its api and a long enough secret", async () => {
  const cfg = (extra: string) => parseConfig(`[fleet]\netcd = ["http://10.0.0.1:2379"]\n${extra}`, "t").fleet;
  await expect(openFleet(cfg('name = "a"\napi = "http://10.0.0.1:8470"'))).rejects.toThrow(ConfigError);
  await expect(openFleet(cfg(`name = "a"\napi = "http://10.0.0.1:8470"\nsecret = "short"`))).rejects.toThrow(
    /at least 32/,
  );
  const fleet = await openFleet(
    cfg(`name = "a"\napi = "http://10.0.0.1:8470"\nsecret = "${"s".repeat(32)}"`),
  );
  expect(fleet?.name).toBe("a");
  expect(fleet?.nameKey("web-1")).toBe("/berth/names/web-1");
  fleet?.close();
});

test("placement: the named host, else the least by the selector (mem by default)", () => {
  expect(placeVm(hosts, { host: "a" })).toBe("a");
  expect(() => placeVm(hosts, { host: "z" })).toThrow(/not a live member/);
  expect(placeVm(hosts, {})).toBe("b");
  expect(placeVm(hosts, { selector: "vcpus" })).toBe("a");
  expect(placeVm(hosts, { selector: "load" })).toBe("c");
  expect(placeVm(hosts, { selector: "vms" })).toBe("c");
  expect(() => placeVm(new Map(), {})).toThrow(/no live host/);
});

test("[fleet] libvirt_transport: tcp by default, tls gives qemu+tls (with the client pkipath when set)", () => {
  const fleet = (extra: string) => parseConfig(`[fleet]\n${extra}`, "t").fleet;
  const b = host("b", 0, 0, 0, 0);
  expect(destinationUri({ ...b, migration_address: "10.0.0.2" }, fleet(""))).toBe(
    "qemu+tcp://10.0.0.2/system",
  );
  expect(destinationUri({ ...b, migration_address: "10.0.0.2" }, fleet('libvirt_transport = "tls"'))).toBe(
    "qemu+tls://10.0.0.2/system",
  );
  expect(
    destinationUri(
      { ...b, migration_address: "fd01::2" },
      fleet('libvirt_transport = "tls"\nlibvirt_pki_path = "/etc/libvirt/pki"'),
    ),
  ).toBe("qemu+tls://[fd01::2]/system?pkipath=/etc/libvirt/pki");
  expect(() => fleet('libvirt_transport = "ssh"')).toThrow(ConfigError);
  expect(() => fleet('libvirt_pki_path = "/etc/pki&no_verify=1"')).toThrow(ConfigError);
});
