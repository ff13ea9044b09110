// [storage] backend: "dir" stays the default and needs nothing more; "rbd" needs its whole cluster named.
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";

const rbd = [
  "[storage]",
  'backend = "rbd"',
  'rbd_pool = "vms"',
  'ceph_monitors = ["10.0.0.1", "10.0.0.2:3300"]',
  'ceph_user = "libvirt"',
  'ceph_key_file = "/etc/berth/ceph.key"',
];

function problems(lines: string[]): string[] {
  try {
    parseConfig(lines.join("\n"), "t.toml");
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.message
      .split("\n")
      .slice(1)
      .map((l) => l.trim());
  }
}

describe("[storage] backend", () => {
  test("dir is the default, and needs none of the rbd keys", () => {
    const c = parseConfig("", "t.toml");
    expect(c.storage.backend).toBe("dir");
    expect(c.storage.ceph_monitors).toEqual([]);
  });

  test("rbd with its cluster named in full is accepted", () => {
    const c = parseConfig(rbd.join("\n"), "t.toml");
    expect(c.storage.backend).toBe("rbd");
    expect(c.storage.ceph_monitors).toEqual(["10.0.0.1", "10.0.0.2:3300"]);
  });

  test("rbd names each key it lacks", () => {
    expect(problems(["[storage]", 'backend = "rbd"'])).toEqual([
      'storage.rbd_pool: needed with storage.backend = "rbd"',
      'storage.ceph_monitors: needed with storage.backend = "rbd"',
      'storage.ceph_user: needed with storage.backend = "rbd"',
      'storage.ceph_key_file: needed with storage.backend = "rbd"',
    ]);
  });

  test("an unknown backend, a relative key file and a monitor with a scheme are refused", () => {
    expect(problems(["[storage]", 'backend = "nfs"']).join()).toContain("storage.backend");
    expect(problems([...rbd, 'ceph_key_file = "ceph.key"'].filter((_l, i) => i !== 5)).join()).toContain(
      "storage.ceph_key_file",
    );
    expect(
      problems([...rbd.slice(0, 3), 'ceph_monitors = ["v2:10.0.0.1:3300/0"]', ...rbd.slice(4)]).join(),
    ).toContain("storage.ceph_monitors");
  });
});
