// The libvirt binding's domain calls, on the real test driver.
import { afterAll, beforeEach, expect, test } from "bun:test";
import {
  Affect,
  Connection,
  DomainUndefineFlags,
  ErrorCode,
  LibvirtError,
  SnapshotCreateFlags,
} from "../../../src/ffi/index.ts";

const conn = Connection.open("test:///default");
afterAll(() => conn.close());

const NS = "https://berth.dev/xmlns/vm/1";
const xmlFor = (name: string) =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu><os><type>hvm</type></os>` +
  `<devices><disk type='file' device='disk'><source file='/guest/${name}.img'/><target dev='sda' bus='scsi'/></disk></devices></domain>`;

function caught(fn: () => unknown): LibvirtError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LibvirtError) return e;
    throw e;
  }
  throw new Error("expected a LibvirtError");
}

beforeEach(() => {
  for (const d of conn.listDomains()) {
    using dom = d;
    if (dom.name().startsWith("u-")) {
      if (dom.isActive()) dom.destroy();
      dom.undefine(DomainUndefineFlags.SNAPSHOTS_METADATA | DomainUndefineFlags.MANAGED_SAVE);
    }
  }
});

test("no such domain is LibvirtError 42 from the test driver's domain (12)", () => {
  const e = caught(() => conn.domainByName("u-missing"));
  expect(e.libvirtCode).toBe(ErrorCode.NO_DOMAIN);
  expect(e.domain).toBe(12);
  expect(e.message).toContain("not found");
});

test("define, look up by name and UUID, list, XML, undefine", () => {
  using d = conn.defineDomain(xmlFor("u-one"));
  expect(d.name()).toBe("u-one");
  const uuid = d.uuid();
  expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
  using byUuid = conn.domainByUUID(uuid);
  expect(byUuid.name()).toBe("u-one");
  using byName = conn.domainByName("u-one");
  expect(byName.uuid()).toBe(uuid);
  expect(d.isPersistent()).toBe(true);
  expect(d.isActive()).toBe(false);
  expect(d.id()).toBeNull();
  expect(d.xml()).toContain("<name>u-one</name>");
  const names = conn.listDomains().map((x) => {
    using dom = x;
    return dom.name();
  });
  expect(names).toContain("u-one");
  expect(names).toContain("test");
  d.undefine();
  expect(caught(() => conn.domainByName("u-one")).libvirtCode).toBe(ErrorCode.NO_DOMAIN);
});

test("invalid XML is a LibvirtError with an XML code", () => {
  const e = caught(() => conn.defineDomain("<domain"));
  expect([ErrorCode.XML_ERROR, ErrorCode.XML_DETAIL] as number[]).toContain(e.libvirtCode);
});

test("lifecycle: create, suspend, resume, reboot, reset, shutdown, destroy, with state and info", () => {
  using d = conn.defineDomain(xmlFor("u-life"));
  d.create();
  expect(d.state().state).toBe("running");
  expect(d.id()).toBeGreaterThan(0);
  const info = d.info();
  expect(info.vcpus).toBe(1);
  expect(info.maxMemoryKiB).toBe(128 * 1024);
  const already = caught(() => d.create());
  expect([ErrorCode.OPERATION_INVALID, ErrorCode.INTERNAL_ERROR] as number[]).toContain(already.libvirtCode);
  d.suspend();
  expect(d.state().state).toBe("paused");
  d.resume();
  expect(d.state().state).toBe("running");
  d.reboot();
  d.reset();
  d.shutdown();
  expect(d.state().state).toBe("shutoff");
  d.create();
  d.destroy();
  expect(d.isActive()).toBe(false);
  d.undefine();
});

test("managed save: save, has image, start restores, remove", () => {
  using d = conn.defineDomain(xmlFor("u-save"));
  d.create();
  d.managedSave();
  expect(d.isActive()).toBe(false);
  expect(d.hasManagedSave()).toBe(true);
  d.removeManagedSave();
  expect(d.hasManagedSave()).toBe(false);
  d.setAutostart(true);
  d.undefine();
});

test("metadata: absent is null, set, read back, removed", () => {
  using d = conn.defineDomain(xmlFor("u-meta"));
  expect(d.metadata(NS)).toBeNull();
  d.setMetadata(NS, "berth", `<vm id="vm-123"/>`, Affect.CONFIG);
  expect(d.metadata(NS)).toContain(`id="vm-123"`);
  d.setMetadata(NS, "berth", null, Affect.CONFIG);
  expect(d.metadata(NS)).toBeNull();
  d.undefine();
});

test("devices: the test driver has no device hot-plug; the binding reports it as LibvirtError 3", () => {
  // Real attach/detach/update run in test/integration against libvirtd.
  using d = conn.defineDomain(xmlFor("u-dev"));
  const disk = `<disk type='file' device='disk'><source file='/guest/extra.img'/><target dev='sdb' bus='scsi'/></disk>`;
  for (const call of [
    () => d.attachDevice(disk, Affect.CONFIG),
    () => d.updateDevice(disk, Affect.CONFIG),
    () => d.detachDevice(disk, Affect.CONFIG),
  ]) {
    expect(caught(call).libvirtCode).toBe(ErrorCode.NO_SUPPORT);
  }
  d.undefine();
});

test("block resize and interface addresses answer or fail as LibvirtError", () => {
  using d = conn.domainByName("test");
  try {
    d.blockResize("vda", 1 << 30);
  } catch (e) {
    expect(e).toBeInstanceOf(LibvirtError);
  }
  for (const source of ["lease", "agent", "arp"] as const) {
    const ifaces = d.interfaceAddresses(source);
    for (const i of ifaces) {
      expect(i.mac).toMatch(/^[0-9a-f:]{17}$/);
      for (const a of i.addresses) expect(["ipv4", "ipv6"]).toContain(a.type);
    }
  }
});

test("snapshots: create, list, look up, XML, revert, delete", () => {
  using d = conn.defineDomain(xmlFor("u-snap"));
  d.create();
  using s1 = d.createSnapshot("<domainsnapshot><name>s1</name></domainsnapshot>");
  expect(s1.name()).toBe("s1");
  using s2 = d.createSnapshot("<domainsnapshot><name>s2</name></domainsnapshot>", SnapshotCreateFlags.ATOMIC);
  const names = d.listSnapshots().map((s) => {
    using snap = s;
    return snap.name();
  });
  expect(names.sort()).toEqual(["s1", "s2"]);
  using found = d.snapshot("s1");
  expect(found.xml()).toContain("<name>s1</name>");
  found.revert();
  s2.delete();
  expect(caught(() => d.snapshot("s2")).libvirtCode).toBe(ErrorCode.NO_DOMAIN_SNAPSHOT);
  d.destroy();
  d.undefine(DomainUndefineFlags.SNAPSHOTS_METADATA);
});
