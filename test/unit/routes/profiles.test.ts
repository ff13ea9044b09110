// /v1/profiles: create, list, show, patch, delete; references checked; every error path; declared profiles.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { syncDeclared } from "../../../src/core/declared.ts";
import { findProfile } from "../../../src/core/profiles.ts";
import { apiClient, type Reply } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;

function addImage(name: string, kind: "disk" | "iso" | "kernel", status = "ready"): void {
  core.db
    .query(
      `INSERT INTO images (id, name, kind, format, volume, source, status, created_at)
       VALUES (?, ?, ?, ?, ?, 'test', ?, ?)`,
    )
    .run(
      `id-${name}`,
      name,
      kind,
      kind === "iso" ? "raw" : "qcow2",
      `${name}.img`,
      status,
      new Date().toISOString(),
    );
}

beforeAll(async () => {
  core = await testCore(
    testConfig(`
[network]
manage_bridges = false

[[profiles]]
name = "cfg-web"
cpus = 1
memory_mib = 64
`),
  );
  syncDeclared(core);
  api = apiClient(core);
  addImage("uprof-debian", "disk");
  addImage("uprof-tools", "iso");
  addImage("uprof-tiny", "kernel");
  addImage("uprof-half", "disk", "importing");
  expect((await api.post("/v1/sizes", { name: "uprof-1cpu256mb", vcpus: 1, memory_mib: 256 })).status).toBe(
    201,
  );
  expect((await api.post("/v1/networks", { name: "uprof-v10", bridge: "uprofbr", vlan: 10 })).status).toBe(
    201,
  );
  expect((await api.post("/v1/networks", { name: "uprof-v20", bridge: "uprofbr", vlan: 20 })).status).toBe(
    201,
  );
});
afterAll(async () => {
  await api.delete("/v1/networks/uprof-v10");
  await api.delete("/v1/networks/uprof-v20");
  await core.close();
});

const expectError = (r: Reply, status: number, message: RegExp) => {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({
    error: {
      code: { 400: "invalid_request", 404: "not_found", 409: "conflict" }[status],
      message: expect.any(String),
    },
  });
  expect(r.body.error.message).toMatch(message);
};

const FULL = {
  name: "uprof-full",
  image: "uprof-debian",
  size: "uprof-1cpu256mb",
  cpus: 2,
  memory_mib: 512,
  root_disk_gb: 20,
  disks: [
    { name: "data", size_gb: 5, bus: "scsi", media: "disk" },
    { name: "tools", media: "cdrom", image: "uprof-tools" },
    { name: "copy", image: "uprof-debian", size_gb: 30 },
  ],
  networks: ["uprof-v10", "uprof-v20", "uprof-v10"],
  boot: { mode: "kernel", kernel_image: "uprof-tiny", cmdline: "console=ttyS0 quiet" },
  ssh_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx7 ops@example"],
  user_data: "#cloud-config\npackages: [htop]\n",
};

describe("create and read", () => {
  test("a profile with every field answers 201 and reads back the same", async () => {
    const r = await api.post("/v1/profiles", FULL);
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ ...FULL, origin: "api" });
    expect((await api.get("/v1/profiles/uprof-full")).body).toEqual({ ...FULL, origin: "api" });
    const { name, ...spec } = FULL;
    expect(findProfile(core, name)).toEqual({ name, origin: "api", spec } as never);
  });

  test("a profile with only a name; image null means none", async () => {
    const r = await api.post("/v1/profiles", { name: "uprof-empty", image: null });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ name: "uprof-empty", origin: "api" });
  });

  test("every boot mode", async () => {
    for (const boot of [
      { mode: "disk" },
      { mode: "iso", iso_image: "uprof-tools" },
      { mode: "network", location: "https://deb.example/debian/dists/bookworm/main/installer-amd64/" },
      { mode: "network", location: "ftp://mirror.example/tree", cmdline: "auto=true" },
    ]) {
      const name = `uprof-boot-${boot.mode}-${boot.location?.slice(0, 3) ?? "x"}`;
      const r = await api.post("/v1/profiles", { name, boot, root_disk_gb: 8 });
      expect(r.status).toBe(201);
      expect(r.body.boot).toEqual(boot);
    }
  });

  test("list by name, the declared one included", async () => {
    const r = await api.get("/v1/profiles");
    expect(r.status).toBe(200);
    const names = r.body.map((p: { name: string }) => p.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(["cfg-web", "uprof-empty", "uprof-full"]));
    expect(r.body.find((p: { name: string }) => p.name === "cfg-web")).toEqual({
      name: "cfg-web",
      origin: "config",
      cpus: 1,
      memory_mib: 64,
    });
  });

  test("unknown is 404; names match exactly", async () => {
    expectError(await api.get("/v1/profiles/uprof-ful"), 404, /profile uprof-ful does not exist/);
    expect(() => findProfile(core, "uprof")).toThrow("profile uprof does not exist");
  });
});

describe("references are checked at create time", () => {
  const cases: [string, Record<string, unknown>, number, RegExp][] = [
    ["unknown size", { size: "2cpu" }, 404, /size 2cpu does not exist/],
    ["unknown network", { networks: ["uprof-v10", "uprof-v1"] }, 404, /network uprof-v1 does not exist/],
    ["unknown base image", { image: "nope" }, 404, /image nope does not exist/],
    ["unknown kernel", { boot: { mode: "kernel", kernel_image: "nope" } }, 404, /image nope does not exist/],
    ["unknown disk image", { disks: [{ name: "d", image: "nope" }] }, 404, /image nope does not exist/],
    ["an image still importing", { image: "uprof-half" }, 409, /image uprof-half is not ready/],
    [
      "an ISO as base image",
      { image: "uprof-tools" },
      400,
      /image: image uprof-tools has kind iso, not disk/,
    ],
    [
      "a disk image as kernel",
      { boot: { mode: "kernel", kernel_image: "uprof-debian" } },
      400,
      /boot.kernel_image: image uprof-debian has kind disk, not kernel/,
    ],
    [
      "a disk image as ISO",
      { boot: { mode: "iso", iso_image: "uprof-debian" } },
      400,
      /boot.iso_image: image uprof-debian has kind disk, not iso/,
    ],
    [
      "a disk image on a cdrom",
      { disks: [{ name: "c", media: "cdrom", image: "uprof-debian" }] },
      400,
      /iso/,
    ],
    [
      "a kernel as extra disk",
      { disks: [{ name: "k", image: "uprof-tiny" }] },
      400,
      /disk k: image uprof-tiny has kind kernel, not disk/,
    ],
  ];
  for (const [what, fields, status, message] of cases) {
    test(what, async () => {
      expectError(await api.post("/v1/profiles", { name: "uprof-bad", ...fields }), status, message);
      expect((await api.get("/v1/profiles/uprof-bad")).status).toBe(404);
    });
  }
});

describe("bad input is 400 and creates nothing", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["invalid name", { name: "Web_1" }, /name/],
    ["unknown field", { name: "uprof-bad", flavour: "x" }, /flavour/],
    ["unknown boot field", { name: "uprof-bad", boot: { mode: "disk", initrd: "x" } }, /initrd/],
    ["unknown disk field", { name: "uprof-bad", disks: [{ name: "d", size_gb: 1, iops: 5 }] }, /iops/],
    ["cpus 0", { name: "uprof-bad", cpus: 0 }, /cpus/],
    ["memory 15", { name: "uprof-bad", memory_mib: 15 }, /memory_mib/],
    ["root_disk_gb 0", { name: "uprof-bad", root_disk_gb: 0 }, /root_disk_gb/],
    ["bus ide", { name: "uprof-bad", disks: [{ name: "d", size_gb: 1, bus: "ide" }] }, /bus/],
    ["media floppy", { name: "uprof-bad", disks: [{ name: "d", size_gb: 1, media: "floppy" }] }, /media/],
    ["unknown boot mode", { name: "uprof-bad", boot: { mode: "pxe" } }, /mode/],
    ["a disk named root", { name: "uprof-bad", disks: [{ name: "root", size_gb: 1 }] }, /root disk/],
    [
      "a disk name twice",
      {
        name: "uprof-bad",
        disks: [
          { name: "d", size_gb: 1 },
          { name: "d", size_gb: 2 },
        ],
      },
      /disk name d is used twice/,
    ],
    ["a bad disk name", { name: "uprof-bad", disks: [{ name: "D 1", size_gb: 1 }] }, /name/],
    ["a blank disk without size", { name: "uprof-bad", disks: [{ name: "d" }] }, /give size_gb/],
    [
      "a cdrom without image",
      { name: "uprof-bad", disks: [{ name: "c", media: "cdrom" }] },
      /needs an image/,
    ],
    [
      "a cdrom with a size",
      { name: "uprof-bad", disks: [{ name: "c", media: "cdrom", image: "uprof-tools", size_gb: 1 }] },
      /has no size_gb/,
    ],
    ["kernel without kernel_image", { name: "uprof-bad", boot: { mode: "kernel" } }, /needs kernel_image/],
    ["iso without iso_image", { name: "uprof-bad", boot: { mode: "iso" } }, /needs iso_image/],
    ["network without location", { name: "uprof-bad", boot: { mode: "network" } }, /needs location/],
    [
      "network with a file URL",
      { name: "uprof-bad", boot: { mode: "network", location: "file:///etc/passwd" } },
      /http, https or ftp/,
    ],
    [
      "a field of another mode",
      { name: "uprof-bad", boot: { mode: "disk", kernel_image: "uprof-tiny" } },
      /boot.kernel_image does not apply to boot mode disk/,
    ],
    [
      "a cmdline with a newline",
      { name: "uprof-bad", boot: { mode: "kernel", kernel_image: "uprof-tiny", cmdline: "a\nb" } },
      /control characters/,
    ],
    ["a bad ssh key", { name: "uprof-bad", ssh_keys: ["not a key"] }, /ssh_keys\[0\]/],
    [
      "an ssh key with two lines",
      { name: "uprof-bad", ssh_keys: ["ssh-rsa AAAA a\nssh-rsa AAAA b"] },
      /ssh_keys/,
    ],
    ["a network name that is not a string", { name: "uprof-bad", networks: [5] }, /networks/],
  ];
  for (const [what, body, message] of cases) {
    test(what, async () => {
      expectError(await api.post("/v1/profiles", body), 400, message);
      expect((await api.get("/v1/profiles/uprof-bad")).status).toBe(404);
    });
  }
});

describe("conflicts are 409", () => {
  test("a name that exists", async () => {
    expectError(
      await api.post("/v1/profiles", { name: "uprof-empty" }),
      409,
      /profile uprof-empty already exists/,
    );
  });
  test("a name the config file declares: not created, patched or deleted", async () => {
    expectError(await api.post("/v1/profiles", { name: "cfg-web" }), 409, /declared in the config file/);
    expectError(await api.patch("/v1/profiles/cfg-web", { cpus: 4 }), 409, /declared in the config file/);
    expectError(await api.delete("/v1/profiles/cfg-web"), 409, /declared in the config file/);
    expect(findProfile(core, "cfg-web").spec).toEqual({ cpus: 1, memory_mib: 64 });
  });
});

describe("patch", () => {
  test("fields given replace, null removes, the rest stays", async () => {
    const r = await api.patch("/v1/profiles/uprof-full", {
      cpus: null,
      memory_mib: 1024,
      networks: ["uprof-v20"],
      boot: { mode: "disk" },
      disks: null,
      image: null,
    });
    expect(r.status).toBe(200);
    const { cpus: _c, disks: _d, image: _i, ...kept } = FULL;
    const want = {
      ...kept,
      origin: "api",
      memory_mib: 1024,
      networks: ["uprof-v20"],
      boot: { mode: "disk" },
    };
    expect(r.body).toEqual(want);
    expect((await api.get("/v1/profiles/uprof-full")).body).toEqual(want);
  });
  test("an empty patch changes nothing", async () => {
    const before = (await api.get("/v1/profiles/uprof-full")).body;
    const r = await api.patch("/v1/profiles/uprof-full", {});
    expect(r.status).toBe(200);
    expect(r.body).toEqual(before);
  });
  test("the result is checked like a new profile, and a refused patch changes nothing", async () => {
    const before = (await api.get("/v1/profiles/uprof-full")).body;
    expectError(
      await api.patch("/v1/profiles/uprof-full", { size: "2cpu" }),
      404,
      /size 2cpu does not exist/,
    );
    expectError(
      await api.patch("/v1/profiles/uprof-full", { boot: { mode: "iso" } }),
      400,
      /needs iso_image/,
    );
    expectError(await api.patch("/v1/profiles/uprof-full", { name: "other" }), 400, /name/);
    expectError(await api.patch("/v1/profiles/uprof-full", { cpus: 999 }), 400, /cpus/);
    expect((await api.get("/v1/profiles/uprof-full")).body).toEqual(before);
  });
  test("an unknown profile is 404", async () => {
    expectError(
      await api.patch("/v1/profiles/uprof-none", { cpus: 1 }),
      404,
      /profile uprof-none does not exist/,
    );
  });
});

describe("delete", () => {
  test("refused while a VM was made from it, then 204", async () => {
    const at = new Date().toISOString();
    core.db
      .query(
        `INSERT INTO vms (id, name, status, vcpus, memory_mib, profile, boot, created_at, updated_at)
         VALUES ('uprof-vm', 'uprof-vm', 'stopped', 1, 64, 'uprof-empty', '{"mode":"disk"}', ?, ?)`,
      )
      .run(at, at);
    expectError(
      await api.delete("/v1/profiles/uprof-empty"),
      409,
      /profile uprof-empty is used by vm uprof-vm/,
    );
    core.db.query("DELETE FROM vms WHERE id = 'uprof-vm'").run();
    const r = await api.delete("/v1/profiles/uprof-empty");
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
    expectError(await api.get("/v1/profiles/uprof-empty"), 404, /does not exist/);
  });
  test("an unknown profile is 404", async () => {
    expectError(await api.delete("/v1/profiles/uprof-none"), 404, /profile uprof-none does not exist/);
  });
});
