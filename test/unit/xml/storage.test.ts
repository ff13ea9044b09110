// Storage XML builders against golden strings: directory pools, blank volumes, linked clones.
import { expect, test } from "bun:test";
import { buildDirPoolXml, buildVolumeXml } from "../../../src/xml/storage.ts";

test("a directory pool", () => {
  expect(buildDirPoolXml({ name: "berth-images", path: "/var/lib/berth/images" })).toBe(`<pool type="dir">
  <name>berth-images</name>
  <target>
    <path>/var/lib/berth/images</path>
    <permissions>
      <mode>0711</mode>
    </permissions>
  </target>
</pool>
`);
});

test("a blank raw volume", () => {
  expect(buildVolumeXml({ name: "data.img", capacityBytes: 1 << 30, format: "raw" })).toBe(`<volume>
  <name>data.img</name>
  <capacity unit="bytes">1073741824</capacity>
  <target>
    <format type="raw"/>
  </target>
</volume>
`);
});

test("a qcow2 linked clone names its backing file and format", () => {
  expect(
    buildVolumeXml({
      name: "web-1-root.qcow2",
      capacityBytes: 10 * 2 ** 30,
      format: "qcow2",
      backing: { path: "/var/lib/berth/images/debian & co.qcow2", format: "qcow2" },
    }),
  ).toBe(`<volume>
  <name>web-1-root.qcow2</name>
  <capacity unit="bytes">10737418240</capacity>
  <target>
    <format type="qcow2"/>
  </target>
  <backingStore>
    <path>/var/lib/berth/images/debian &amp; co.qcow2</path>
    <format type="qcow2"/>
  </backingStore>
</volume>
`);
});
