// Golden XML of the rbd backend: the cephx secret, the rbd pool, a raw RBD volume, and a VM disk as an RBD network disk.
import { describe, expect, test } from "bun:test";
import { buildDiskDeviceXml, buildDomainXml } from "../../../src/xml/domain.ts";
import { buildCephSecretXml, buildRbdPoolXml, buildRbdVolumeXml } from "../../../src/xml/rbd.ts";

const rbd = {
  name: "vms/vm-1-0",
  hosts: [
    { host: "10.0.0.1", port: 6789 },
    { host: "10.0.0.2", port: 6789 },
  ],
  user: "libvirt",
  secretUuid: "c0ffee00-0000-4000-8000-000000000001",
};

describe("rbd XML", () => {
  test("secret: private, persistent, ceph usage; no value in it", () => {
    expect(buildCephSecretXml({ uuid: rbd.secretUuid, user: "libvirt" })).toBe(
      `<secret ephemeral="no" private="yes">
  <uuid>c0ffee00-0000-4000-8000-000000000001</uuid>
  <usage type="ceph">
    <name>client.libvirt secret</name>
  </usage>
</secret>
`,
    );
  });

  test("pool: the Ceph pool, every monitor, cephx auth by secret UUID", () => {
    expect(
      buildRbdPoolXml({
        name: "berth-rbd",
        cephPool: "vms",
        monitors: rbd.hosts,
        user: "libvirt",
        secretUuid: rbd.secretUuid,
      }),
    ).toBe(
      `<pool type="rbd">
  <name>berth-rbd</name>
  <source>
    <name>vms</name>
    <host name="10.0.0.1" port="6789"/>
    <host name="10.0.0.2" port="6789"/>
    <auth type="ceph" username="libvirt">
      <secret uuid="c0ffee00-0000-4000-8000-000000000001"/>
    </auth>
  </source>
</pool>
`,
    );
  });

  test("volume: raw, sized in bytes", () => {
    expect(buildRbdVolumeXml({ name: "vm-1-0", capacityBytes: 1073741824 })).toBe(
      `<volume>
  <name>vm-1-0</name>
  <capacity unit="bytes">1073741824</capacity>
  <target>
    <format type="raw"/>
  </target>
</volume>
`,
    );
  });

  test("disk: a network disk on rbd with auth, on the virtio-scsi controller at its unit", () => {
    const xml = buildDomainXml({
      name: "v",
      type: "qemu",
      vcpus: 1,
      memoryMiB: 64,
      boot: { kind: "disk" },
      disks: [{ path: "", format: "raw", rbd }],
      nics: [],
    });
    expect(xml).toContain(
      `    <disk type="network" device="disk">
      <driver name="qemu" type="raw" cache="writeback" discard="unmap"/>
      <auth username="libvirt">
        <secret type="ceph" uuid="c0ffee00-0000-4000-8000-000000000001"/>
      </auth>
      <source protocol="rbd" name="vms/vm-1-0">
        <host name="10.0.0.1" port="6789"/>
        <host name="10.0.0.2" port="6789"/>
      </source>
      <target dev="sda" bus="scsi"/>
      <address type="drive" controller="0" bus="0" target="0" unit="0"/>
    </disk>
`,
    );
    expect(xml).toContain('<controller type="scsi" index="0" model="virtio-scsi"/>');
    expect(buildDiskDeviceXml({ path: "", format: "raw", rbd }, 2)).toContain(
      '<target dev="sdc" bus="scsi"/>',
    );
  });
});
