// The libvirt binding's storage pool and volume calls, on the real test driver.
import { afterAll, expect, test } from "bun:test";
import { Connection, ErrorCode, type LibvirtError } from "../../../src/ffi/index.ts";

const conn = Connection.open("test:///default");
afterAll(() => conn.close());

test("define, build, start, refresh, autostart, list and undefine a pool", () => {
  using p = conn.defineStoragePool(
    "<pool type='dir'><name>u-pool</name><target><path>/u-pool</path></target></pool>",
  );
  expect(p.name()).toBe("u-pool");
  p.build();
  p.create();
  expect(p.isActive()).toBe(true);
  p.refresh();
  p.setAutostart(true);
  expect(p.xml()).toContain("/u-pool");
  expect(
    conn.listStoragePools().map((x) => {
      using pool = x;
      return pool.name();
    }),
  ).toContain("u-pool");
  p.destroy();
  p.undefine();
});

test("volumes: create, copy, look up by name and path, info, resize, delete", () => {
  using pool = conn.storagePoolByName("default-pool");
  using v = pool.createVolume(
    "<volume><name>u-a.img</name><capacity unit='MiB'>64</capacity><target><format type='raw'/></target></volume>",
  );
  expect(v.name()).toBe("u-a.img");
  const path = v.path();
  expect(path).toEndWith("/u-a.img");
  expect(v.info().capacity).toBe(64 * 1024 * 1024);
  expect(v.info().type).toBe("file");
  // Resize is unsupported by the test driver (covered on libvirtd in test/integration).
  expect(() => v.resize(128 * 1024 * 1024)).toThrow(/not supported/);
  using copy = pool.createVolumeFrom(
    "<volume><name>u-b.img</name><capacity unit='MiB'>128</capacity></volume>",
    v,
  );
  expect(copy.name()).toBe("u-b.img");
  using byPath = conn.storageVolByPath(path);
  expect(byPath.name()).toBe("u-a.img");
  const names = pool.listVolumes().map((x) => {
    using vol = x;
    return vol.name();
  });
  expect(names).toEqual(expect.arrayContaining(["u-a.img", "u-b.img"]));
  expect(v.xml()).toContain("u-a.img");
  copy.delete();
  v.delete();
  try {
    pool.volume("u-a.img");
    throw new Error("still there");
  } catch (e) {
    expect((e as LibvirtError).libvirtCode).toBe(ErrorCode.NO_STORAGE_VOL);
  }
});
