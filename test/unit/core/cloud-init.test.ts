// The cloud-init NoCloud config drive: its YAML, the ISO genisoimage builds, the cdrom it becomes, and its cleanup.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { stagingDir } from "../../../src/core/paths.ts";
import { cidataVolume, metaData, userData } from "../../../src/core/vms/cloud-init.ts";
import { ownsVolume } from "../../../src/core/vms/volumes.ts";
import { apiClient } from "../../support/api.ts";
import type { Json } from "../../support/http.ts";
import { imageCore, type TestCore } from "./images-fixtures.ts";

const KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@example.org";
const KEY2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 bob";
const small = { cpus: 1, memory_mib: 64, root_disk_gb: 1 };

let core: TestCore;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  core = await imageCore();
  api = apiClient(core);
});
afterAll(() => core.close());

const volumes = async () =>
  (await core.hv.call("volume.list", { pool: core.config.storage.pool })).map((v) => v.name).sort();

/** isoinfo (from genisoimage's package): the primary volume descriptor, or one file's content. */
function isoinfo(args: string[]): string {
  const r = Bun.spawnSync(["isoinfo", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`isoinfo ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

describe("the drive's files", () => {
  test("meta-data: instance-id, local-hostname and the keys as public-keys, one key a line", () => {
    expect(metaData("id-1", "web-1", [KEY, KEY2])).toBe(
      `instance-id: id-1\nlocal-hostname: web-1\npublic-keys:\n  - ${KEY}\n  - ${KEY2}\n`,
    );
    expect(metaData("id-1", "web-1", [])).toBe("instance-id: id-1\nlocal-hostname: web-1\n");
  });

  test("user-data: the given text as is, else a #cloud-config authorising the keys", () => {
    expect(userData([KEY])).toBe(`#cloud-config\n\nssh_authorized_keys:\n  - ${KEY}\n`);
    expect(userData([KEY], "#!/bin/sh\necho hi\n")).toBe("#!/bin/sh\necho hi\n");
  });

  test("text YAML would misread is quoted by the library, not pasted", () => {
    const tricky = "ssh-ed25519 AAAA x: y #z";
    expect(userData([tricky])).toContain(`- "${tricky}"`);
  });
});

describe("a VM with ssh keys gets a cidata cdrom", () => {
  let vm: Json;
  test("after its other disks, read-only, stored as vm-<id>-cidata.iso in the pool", async () => {
    const r = await api.post("/v1/vms?wait=true", {
      name: "ci-1",
      ...small,
      disks: [{ name: "data", size_gb: 1 }],
      ssh_keys: [KEY],
    });
    expect(r.body.status).toBe("succeeded");
    vm = r.body.result;
    expect(vm.disks.map((d: Json) => [d.name, d.device, d.target, d.format])).toEqual([
      ["root", "disk", "sda", "qcow2"],
      ["data", "disk", "sdb", "qcow2"],
      ["cidata", "cdrom", "sdc", "raw"],
    ]);
    const drive = vm.disks[2];
    expect(drive.volume).toBe(`vm-${vm.id}-cidata.iso`);
    expect(await volumes()).toContain(drive.volume);
    expect(drive.size).toBe(Bun.file(drive.path).size);
    expect(drive.size).toBeGreaterThan(0);
    const xml = await core.hv.call("domain.xml", { name: "ci-1" });
    expect(xml).toMatch(
      new RegExp(`<disk type='file' device='cdrom'>[\\s\\S]*?${drive.path}[\\s\\S]*?<readonly/>`),
    );
    expect(readdirSync(stagingDir(core.config))).toEqual([]);
  });

  test("the ISO is labelled cidata and holds meta-data and user-data (Rock Ridge names)", () => {
    const path = vm.disks[2].path;
    expect(isoinfo(["-d", "-i", path])).toContain("Volume id: cidata");
    expect(isoinfo(["-i", path, "-R", "-x", "/meta-data"])).toBe(
      `instance-id: ${vm.id}\nlocal-hostname: ci-1\npublic-keys:\n  - ${KEY}\n`,
    );
    expect(isoinfo(["-i", path, "-R", "-x", "/user-data"])).toBe(
      `#cloud-config\n\nssh_authorized_keys:\n  - ${KEY}\n`,
    );
  });

  test("delete removes the config drive's volume with the VM's other volumes", async () => {
    expect((await api.delete("/v1/vms/ci-1?wait=true")).body.status).toBe("succeeded");
    expect((await volumes()).filter((v) => v.includes(vm.id))).toEqual([]);
  });
});

describe("when a VM gets a drive, and what it carries", () => {
  test("user_data alone makes a drive that carries it as given", async () => {
    const r = await api.post("/v1/vms?wait=true", {
      name: "ci-4",
      ...small,
      user_data: "#!/bin/sh\n",
      start: false,
    });
    const drive = r.body.result.disks.at(-1);
    expect([drive.name, drive.device]).toEqual(["cidata", "cdrom"]);
    expect(isoinfo(["-i", drive.path, "-R", "-x", "/user-data"])).toBe("#!/bin/sh\n");
    expect(isoinfo(["-i", drive.path, "-R", "-x", "/meta-data"])).toBe(
      `instance-id: ${r.body.result.id}\nlocal-hostname: ci-4\n`,
    );
  });

  test("given user-data with keys from a profile: the keys go in meta-data's public-keys", async () => {
    expect((await api.post("/v1/profiles", { name: "ci-keys", ssh_keys: [KEY2] })).status).toBe(201);
    const r = await api.post("/v1/vms?wait=true", {
      name: "ci-2",
      ...small,
      profile: "ci-keys",
      user_data: "#cloud-config\npackages: [htop]\n",
      start: false,
    });
    expect(r.body.status).toBe("succeeded");
    const path = r.body.result.disks.at(-1).path;
    expect(isoinfo(["-i", path, "-R", "-x", "/user-data"])).toBe("#cloud-config\npackages: [htop]\n");
    expect(isoinfo(["-i", path, "-R", "-x", "/meta-data"])).toContain(`public-keys:\n  - ${KEY2}\n`);
    expect(r.body.result.ssh_keys).toEqual([KEY2]);
  });

  test("neither keys nor user-data: no drive", async () => {
    const r = await api.post("/v1/vms?wait=true", { name: "ci-3", ...small, start: false });
    expect(r.body.result.disks.map((d: Json) => d.name)).toEqual(["root"]);
  });

  test("a key that is not one OpenSSH line, or a disk named cidata, is a 400 that creates nothing", async () => {
    const before = await volumes();
    const cases: [Record<string, unknown>, string][] = [
      [{ ssh_keys: [`${KEY}\nssh-rsa AAAA evil`] }, "ssh_keys[0] is not an OpenSSH public key line"],
      [{ ssh_keys: ["hello"] }, "ssh_keys[0]"],
      [
        { ssh_keys: [KEY], disks: [{ name: "cidata", size_gb: 1 }] },
        "disk name cidata is the config drive's",
      ],
      [{ user_data: 5 }, "user_data"],
      [{ user_data: "x".repeat(65_537) }, "user_data"],
    ];
    for (const [extra, msg] of cases) {
      const r = await api.post("/v1/vms", { name: "ci-x", ...small, ...extra });
      expect({ extra: Object.keys(extra), status: r.status }).toEqual({
        extra: Object.keys(extra),
        status: 400,
      });
      expect(r.body.error.message).toContain(msg);
    }
    expect((await api.get("/v1/vms/ci-x")).status).toBe(404);
    expect(await volumes()).toEqual(before);
  });
});

test("a VM owns exactly its own config drive volume: exact names, never a prefix", () => {
  const id = "0b7c3f4e-1d2a-4c5b-8e9f-a0b1c2d3e4f5";
  const cd = (volume: string) => ({ unit: 3, volume, device: "cdrom" as const });
  expect(cidataVolume(id)).toBe(`vm-${id}-cidata.iso`);
  expect(ownsVolume(id, cd(`vm-${id}-cidata.iso`))).toBe(true);
  expect(ownsVolume(id, cd(`vm-${id}-cidata.iso.bak`))).toBe(false);
  expect(ownsVolume(id, cd(`vm-${id}-cidata`))).toBe(false);
  expect(ownsVolume(id, cd("vm-other-cidata.iso"))).toBe(false);
  expect(ownsVolume(id, cd("img-1.iso"))).toBe(false);
  expect(ownsVolume(id, cd(`vm-${id}-3.qcow2`))).toBe(false);
  expect(ownsVolume(id, { unit: 3, volume: `vm-${id}-cidata.iso`, device: "disk" })).toBe(false);
  expect(ownsVolume(id, { unit: 3, volume: `vm-${id}-3.qcow2`, device: "disk" })).toBe(true);
});
