// The libvirt binding's connection calls, on the real test driver.
import { afterAll, expect, test } from "bun:test";
import { Connection, formatVersion, LibvirtError, libraryVersion } from "../../../src/ffi/index.ts";

const conn = Connection.open("test:///default");
afterAll(() => conn.close());

test("versions, URI, hostname and capabilities", () => {
  expect(formatVersion(libraryVersion())).toMatch(/^\d+\.\d+\.\d+$/);
  expect(conn.libVersion()).toBe(libraryVersion());
  expect(conn.hypervisorVersion()).toBeGreaterThan(0);
  expect(conn.uri()).toBe("test:///default");
  expect(conn.hostname().length).toBeGreaterThan(0);
  expect(conn.capabilities()).toContain("<capabilities>");
  expect(conn.isAlive()).toBe(true);
});

test("domain capabilities: the test driver says unsupported, as a LibvirtError with code 3", () => {
  const err = (() => {
    try {
      conn.domainCapabilities({ virtType: "qemu" });
    } catch (e) {
      return e;
    }
  })();
  expect(err).toBeInstanceOf(LibvirtError);
  expect((err as LibvirtError).libvirtCode).toBe(3);
});

test("keepalive and close callback register on a driver that supports them, or fail as LibvirtError", () => {
  // The test driver has no keepalive; the call must fail cleanly rather than crash.
  expect(() => conn.setKeepAlive(5, 3)).toThrow(LibvirtError);
  const sub = conn.onClose(() => {});
  sub[Symbol.dispose]();
});

test("opening a bad URI is a LibvirtError, not a crash, and prints nothing", () => {
  expect(() => Connection.open("nosuchdriver:///x")).toThrow(LibvirtError);
});

test("a closed connection refuses further use", () => {
  const c = Connection.open("test:///default");
  c.close();
  expect(c.freed).toBe(true);
  expect(() => c.uri()).toThrow(/used after it was freed/);
  c.close(); // idempotent
});
