// [fleet] migration tuning: validated config (clear errors) and the typed parameters a live migration sends libvirt.
import { expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { openFleet } from "../../src/core/fleet/fleet.ts";
import type { HostRecord } from "../../src/core/fleet/members.ts";
import { migrationParams } from "../../src/core/fleet/migrate-live.ts";
import { ConfigError } from "../../src/errors.ts";

const base = `[fleet]\netcd = ["http://10.0.0.1:2379"]\nname = "a"\napi = "http://10.0.0.1:8470"\nsecret = "${"s".repeat(32)}"\n`;
const cfg = (extra: string) => parseConfig(`${base}${extra}`, "t").fleet;

const to = (address: string, port?: number): HostRecord => ({
  name: "b",
  api: "http://10.0.0.2:8470",
  migration_address: address,
  ...(port !== undefined ? { migration_port: port } : {}),
  version: "0.1.0",
  capacity: { cpus: 2, memory_mib: 1024 },
  allocation: { vcpus: 0, memory_mib: 0 },
  load: 0,
  vms: 0,
  updated_at: "2026-01-01T00:00:00Z",
});

test("defaults: no bandwidth limit and no port, so libvirt gets neither parameter", () => {
  const fleet = cfg("");
  expect([fleet.migration_bandwidth_mib, fleet.migration_port]).toEqual([0, 0]);
  expect(migrationParams(fleet, to("10.0.0.2"))).toEqual({});
  expect(migrationParams(fleet, to("10.0.0.2", 0))).toEqual({});
});

test("a bandwidth limit and the destination's port become VIR_MIGRATE_PARAM_BANDWIDTH and migrate_uri", () => {
  const fleet = cfg("migration_bandwidth_mib = 100\n");
  expect(migrationParams(fleet, to("10.0.0.2", 49300))).toEqual({
    bandwidthMib: 100,
    migrateUri: "tcp://10.0.0.2:49300",
  });
  expect(migrationParams(fleet, to("fd01::2", 49300)).migrateUri).toBe("tcp://[fd01::2]:49300");
});

test("bad tuning is refused with a clear error at start", async () => {
  expect(() => cfg("migration_bandwidth_mib = -1\n")).toThrow(/migration_bandwidth_mib/);
  expect(() => cfg("migration_port = 70000\n")).toThrow(/migration_port/);
  await expect(openFleet(cfg('migration_address = "10.0.0.1"\nmigration_port = 22\n'))).rejects.toThrow(
    /migration_port must be 0 .* or 1024-65535, not 22/,
  );
  await expect(openFleet(cfg("migration_port = 49300\n"))).rejects.toThrow(ConfigError);
  await expect(openFleet(cfg("migration_port = 49300\n"))).rejects.toThrow(/needs migration_address/);
  const ok = await openFleet(cfg('migration_address = "10.0.0.1"\nmigration_port = 49300\n'));
  expect(ok?.migrationPort).toBe(49300);
  ok?.close();
});
