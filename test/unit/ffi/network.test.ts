// The libvirt binding's network calls, on the real test driver.
import { afterAll, expect, test } from "bun:test";
import { Connection, ErrorCode, LibvirtError } from "../../../src/ffi/index.ts";

const conn = Connection.open("test:///default");
afterAll(() => conn.close());

test("define, start, autostart, list, XML, stop, undefine", () => {
  using n = conn.defineNetwork(
    "<network><name>u-net</name><bridge name='virbr9'/><ip address='192.168.199.1' netmask='255.255.255.0'/></network>",
  );
  expect(n.name()).toBe("u-net");
  expect(n.isPersistent()).toBe(true);
  expect(n.isActive()).toBe(false);
  n.create();
  expect(n.isActive()).toBe(true);
  n.setAutostart(true);
  expect(n.autostart()).toBe(true);
  const listed = conn.listNetworks().map((x) => {
    using net = x;
    return net.name();
  });
  expect(listed).toContain("u-net");
  expect(n.xml()).toContain("192.168.199.1");
  n.destroy();
  expect(n.isActive()).toBe(false);
  n.undefine();
  try {
    conn.networkByName("u-net");
    throw new Error("still defined");
  } catch (e) {
    expect((e as LibvirtError).libvirtCode).toBe(ErrorCode.NO_NETWORK);
  }
});

test("DHCP leases are unsupported on the test driver and say so as a LibvirtError", () => {
  using n = conn.networkByName("default");
  try {
    n.dhcpLeases();
    throw new Error("expected unsupported");
  } catch (e) {
    expect(e).toBeInstanceOf(LibvirtError);
    expect((e as LibvirtError).libvirtCode).toBe(ErrorCode.NO_SUPPORT);
  }
});
