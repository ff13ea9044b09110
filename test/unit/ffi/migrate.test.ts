// virDomainMigrateToURI3 binding on the test driver: typed parameters built and freed, libvirt's refusal read as a LibvirtError.
import { afterAll, expect, test } from "bun:test";
import { Connection, LibvirtError, MigrateFlags } from "../../../src/ffi/index.ts";

const conn = Connection.open("test:///default");
afterAll(() => conn.close());

test("a migration the driver cannot make is libvirt's error, with or without definitions", () => {
  const xml =
    "<domain type='test'><name>m</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>";
  using dom = conn.defineDomain(xml);
  for (const defs of [{}, { destXml: xml }, { destXml: xml, persistXml: xml }]) {
    let caught: unknown = null;
    try {
      dom.migrateToURI3("test:///default", MigrateFlags.LIVE | MigrateFlags.PEER2PEER, defs);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(LibvirtError);
    expect((caught as Error).message).toContain("migration");
  }
  dom.undefine();
});

test("job info the driver does not keep is libvirt's error, read at once (qemu answers it: test/fleet)", () => {
  using dom = conn.domainByName("test");
  expect(() => dom.hasJob()).toThrow(LibvirtError);
  expect(() => dom.hasJob()).toThrow(/virDomainGetJobInfo/);
});
