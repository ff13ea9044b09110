// The rbd backend's derived settings: monitors with default ports, one secret UUID per cluster and user, qemu's escaped target.
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../../src/config/load.ts";
import { rbdSettings } from "../../../src/core/storage/rbd.ts";
import { qemuRbdTarget } from "../../../src/core/storage/rbd-cli.ts";

const toml = (user: string) =>
  [
    "[storage]",
    'backend = "rbd"',
    'rbd_pool = "vms"',
    'ceph_monitors = ["10.0.0.1", "mon-b.example:3300"]',
    `ceph_user = "${user}"`,
    'ceph_key_file = "/etc/berth/ceph:key"',
  ].join("\n");

describe("rbd settings", () => {
  test("monitors default to port 6789; the libvirt pool is named after berth's", () => {
    const s = rbdSettings(parseConfig(toml("libvirt"), "t"));
    expect(s.monitors).toEqual([
      { host: "10.0.0.1", port: 6789 },
      { host: "mon-b.example", port: 3300 },
    ]);
    expect(s.libvirtPool).toBe("berth-rbd");
    expect(s.cephPool).toBe("vms");
  });

  test("the secret UUID is a valid v4 UUID, the same for the same cluster and user, another for another user", () => {
    const a = rbdSettings(parseConfig(toml("libvirt"), "t")).secretUuid;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(rbdSettings(parseConfig(toml("libvirt"), "t")).secretUuid).toBe(a);
    expect(rbdSettings(parseConfig(toml("other"), "t")).secretUuid).not.toBe(a);
  });

  test("qemu-img's target escapes ports and paths, names the key file, never a key", () => {
    const s = rbdSettings(parseConfig(toml("libvirt"), "t"));
    expect(qemuRbdTarget(s, "image-1.part-x")).toBe(
      "rbd:vms/image-1.part-x:id=libvirt:keyfile=/etc/berth/ceph\\:key:mon_host=10.0.0.1\\:6789\\;mon-b.example\\:3300",
    );
  });
});
