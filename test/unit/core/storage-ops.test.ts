// Listing a pool's volumes while another client deletes one: the listing leaves it out instead of failing.
import { afterAll, expect, test } from "bun:test";
import { describeListed } from "../../../src/core/hypervisor/ops/storage-ops.ts";
import { Connection } from "../../../src/ffi/index.ts";
import { buildVolumeXml } from "../../../src/xml/storage.ts";

// test:///default is shared by every connection in this process: the volumes here are named so-*.
const conn = Connection.open("test:///default");
afterAll(() => conn.close());

test("a volume deleted between the listing and its reads is left out; the others are described", () => {
  using pool = conn.storagePoolByName("default-pool");
  for (const name of ["so-keep", "so-gone"]) {
    pool.createVolume(buildVolumeXml({ name, capacityBytes: 1 << 20, format: "qcow2" }))[Symbol.dispose]();
  }
  const listed = pool.listVolumes();
  {
    using gone = pool.volume("so-gone");
    gone.delete();
  }
  const names = describeListed(listed).map((v) => v.name);
  expect(names).toContain("so-keep");
  expect(names).not.toContain("so-gone");
  using keep = pool.volume("so-keep");
  keep.delete();
});
