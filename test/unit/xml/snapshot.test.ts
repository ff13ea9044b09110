// buildSnapshotXml against golden strings, and readSnapshotXml on libvirt's own answers.
import { expect, test } from "bun:test";
import { buildSnapshotXml, readSnapshotXml } from "../../../src/xml/snapshot.ts";

test("a bare snapshot is just its name: libvirt's default internal snapshot (with RAM when running)", () => {
  expect(buildSnapshotXml({ name: "before-upgrade" })).toBe(`<domainsnapshot>
  <name>before-upgrade</name>
</domainsnapshot>
`);
});

test("cdroms are left out with snapshot='no'; the description is escaped", () => {
  expect(
    buildSnapshotXml({ name: "s1", description: `it's <"x"> & y`, skipDisks: ["sdb", "sdd"] }),
  ).toBe(`<domainsnapshot>
  <name>s1</name>
  <description>it&apos;s &lt;&quot;x&quot;&gt; &amp; y</description>
  <disks>
    <disk name="sdb" snapshot="no"/>
    <disk name="sdd" snapshot="no"/>
  </disks>
</domainsnapshot>
`);
});

test("an empty skip list and an empty description add nothing", () => {
  expect(buildSnapshotXml({ name: "s2", description: "", skipDisks: [] })).toBe(
    "<domainsnapshot>\n  <name>s2</name>\n</domainsnapshot>\n",
  );
});

// Trimmed from virDomainSnapshotGetXMLDesc on qemu:///system (libvirt 9.0).
const RUNNING = `<domainsnapshot>
  <name>s-on</name>
  <state>running</state>
  <creationTime>1795326519</creationTime>
  <memory snapshot='internal'/>
  <disks>
    <disk name='sda' snapshot='internal'/>
    <disk name='sdb' snapshot='no'/>
  </disks>
  <domain type='qemu'><name>probe</name></domain>
</domainsnapshot>`;

const OFFLINE = `<domainsnapshot>
  <name>s-off</name>
  <state>shutoff</state>
  <creationTime>1795326505</creationTime>
  <memory snapshot='no'/>
  <disks><disk name='sda' snapshot='internal'/></disks>
</domainsnapshot>`;

test("readSnapshotXml: a running snapshot holds memory, an offline one does not", () => {
  expect(readSnapshotXml(RUNNING)).toEqual({
    name: "s-on",
    state: "running",
    memory: true,
    creationTime: 1795326519,
  });
  expect(readSnapshotXml(OFFLINE)).toEqual({
    name: "s-off",
    state: "shutoff",
    memory: false,
    creationTime: 1795326505,
  });
});

test("readSnapshotXml refuses what is not a snapshot, and one without a name", () => {
  expect(() => readSnapshotXml("<domain><name>x</name></domain>")).toThrow("not a domainsnapshot");
  expect(() => readSnapshotXml("<domainsnapshot><state>running</state></domainsnapshot>")).toThrow(
    "has no name",
  );
  expect(readSnapshotXml("<domainsnapshot><name>n</name></domainsnapshot>")).toEqual({
    name: "n",
    state: "nostate",
    memory: false,
    creationTime: null,
  });
});
