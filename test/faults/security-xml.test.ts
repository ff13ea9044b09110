// Raw domain XML as an attacker writes it, on real libvirtd: the disk-header attack and host-affecting settings are refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { integrationReady, run } from "../integration/support/env.ts";
import { buildGuest, GUEST } from "../integration/support/guest.ts";
import { dropStoragePool, type SystemCore, systemCore } from "../integration/support/system-core.ts";
import { apiClient, type Reply } from "../support/api.ts";
import type { Json } from "../support/http.ts";

const id = `${process.pid}`;
const POOL = `berth-fx-xml-${id}`;
const NET = `sx-n-${id}`;
const VM = `sx-${id}`;
const KERNEL = `sx-k-${id}`;
const BASE = `sx-d-${id}`;
/** Root-only, like /etc/shadow: what the crafted header points at. */
const SECRET = `/tmp/berth-sx-secret-${id}`;
/** Same length as SECRET: the data file qemu-img writes into the header, patched to SECRET afterwards. */
const DUMMY = `/tmp/berth-sx-dummyy-${id}`;
const SECRET_TEXT = "root:$6$not-for-guests\n";

describe.skipIf(!integrationReady())("raw XML security on libvirtd", () => {
  let core: SystemCore;
  let api: ReturnType<typeof apiClient>;
  let work: string;
  const ok = async (p: Promise<Reply>, want = 200) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r as { status: number; body: Json };
  };
  const inactive = async () => {
    const res = await api.app.handle(new Request(`http://localhost/v1/vms/${VM}/xml?inactive=true`));
    expect(res.status).toBe(200);
    return await res.text();
  };
  const putXml = (xml: string) => api.put(`/v1/vms/${VM}/xml?wait=true`, { xml });
  const rootPath = async () => (await api.get(`/v1/vms/${VM}`)).body.disks[0].path as string;
  const qemuImg = (...args: string[]) => {
    const r = run(["qemu-img", ...args], 30_000);
    if (!r.ok) throw new Error(`qemu-img ${args.join(" ")}: ${r.out}`);
    return r.out;
  };
  /** Owner, mode and content of the secret: root, 0600 and unchanged unless something opened it for QEMU. */
  const secretState = () => {
    const st = statSync(SECRET);
    return { uid: st.uid, gid: st.gid, mode: st.mode & 0o777, text: readFileSync(SECRET, "utf8") };
  };
  const UNTOUCHED = { uid: 0, gid: 0, mode: 0o600, text: SECRET_TEXT };
  /** What a guest with raw access to its own disk writes at offset 0: a qcow2 header of its choosing. */
  const writeHeader = (volume: string, image: Uint8Array) => {
    const fd = openSync(volume, "r+");
    try {
      writeSync(fd, image, 0, image.length, 0);
    } finally {
      closeSync(fd);
    }
  };
  /** Puts a clean blank qcow2 back in place of the root volume (its size as berth recorded it). */
  const cleanRoot = async () => {
    qemuImg("create", "-q", "-f", "qcow2", await rootPath(), "1G");
  };
  const stopVm = async () => {
    const state = (await api.get(`/v1/vms/${VM}`)).body.state;
    if (state !== "shutoff") await ok(api.post(`/v1/vms/${VM}/stop?wait=true`, {}));
  };
  /** Starts the VM on the definition berth kept; QEMU may refuse the crafted disk, the secret must stay shut. */
  const startAndLook = async () => {
    const r = await api.post(`/v1/vms/${VM}/start?wait=true`, {});
    const live = (await core.hv.call("domain.xml", { name: VM })) as string;
    await stopVm();
    return { status: r.status, code: r.body?.error?.code as string | undefined, live };
  };

  beforeAll(async () => {
    buildGuest();
    work = mkdtempSync(join(tmpdir(), "berth-sx-"));
    writeFileSync(SECRET, SECRET_TEXT, { mode: 0o600 });
    chmodSync(SECRET, 0o600);
    const images = `[images]\nimport_dirs = [${JSON.stringify(dirname(GUEST.kernel))}]\n`;
    core = await systemCore(POOL, `[network]\novs_datapath = "netdev"\n${images}`);
    api = apiClient(core);
    await ok(
      api.post("/v1/images?wait=true", {
        name: KERNEL,
        kind: "kernel",
        kernel: { path: GUEST.kernel },
        initrd: { path: GUEST.initrd },
      }),
    );
    const base = join(work, "base.qcow2");
    qemuImg("create", "-q", "-f", "qcow2", base, "64M");
    const up = await api.app.handle(
      new Request(`http://localhost/v1/images/${BASE}/upload?kind=disk`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body: Bun.file(base),
      }),
    );
    expect(up.status).toBeLessThan(300);
    await ok(api.get(`/v1/images/${BASE}`));
    const subnet = `192.168.${150 + (process.pid % 40)}.0/24`;
    await ok(api.post("/v1/networks", { name: NET, mode: "nat", subnet }), 201);
    await ok(
      api.post("/v1/profiles", {
        name: VM,
        cpus: 1,
        memory_mib: 128,
        root_disk_gb: 1,
        disks: [{ name: "base", image: BASE }],
        networks: [NET],
        boot: { mode: "kernel", kernel_image: KERNEL, cmdline: GUEST.cmdline },
      }),
      201,
    );
    await ok(api.post("/v1/vms?wait=true", { name: VM, profile: VM, start: false }));
  }, 600_000);

  afterAll(async () => {
    rmSync(SECRET, { force: true });
    rmSync(DUMMY, { force: true });
    if (work) rmSync(work, { recursive: true, force: true });
    if (!core) return;
    await api.delete(`/v1/vms/${VM}?wait=true`);
    await api.delete(`/v1/profiles/${VM}`);
    await api.delete(`/v1/networks/${NET}`);
    await api.delete(`/v1/images/${KERNEL}`);
    await api.delete(`/v1/images/${BASE}`);
    const left = await dropStoragePool(core, POOL);
    await core.close();
    expect(left).toEqual([]);
  }, 120_000);

  test("the definition libvirt writes back for a berth VM round-trips unchanged, twice", async () => {
    const first = await inactive();
    await ok(putXml(first));
    const second = await inactive();
    expect(second).toBe(first);
    await ok(putXml(second));
    expect(await inactive()).toBe(first);
  }, 60_000);

  test("a driver type other than berth's record of the volume (raw over a qcow2 root) is refused", async () => {
    const before = await inactive();
    const raw = before.replace(/<driver name='qemu' type='qcow2'\/>/, "<driver name='qemu' type='raw'/>");
    expect(raw).not.toBe(before);
    const r = await putXml(raw);
    expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status: 400, code: "xml_not_allowed" });
    expect(r.body.error.message).toMatch(/driver/);
    expect(await inactive()).toBe(before);
  }, 60_000);

  for (const variant of ["backing file", "data_file"] as const) {
    test(`a qcow2 header the guest wrote naming a host file (${variant}) is refused, and the file is neither chowned nor changed`, async () => {
      const evil = join(work, `evil-${variant.replace(" ", "-")}.qcow2`);
      if (variant === "backing file") {
        qemuImg("create", "-q", "-f", "qcow2", "-u", "-b", SECRET, "-F", "raw", evil, "1G");
      } else {
        qemuImg("create", "-q", "-f", "qcow2", "-o", `data_file=${DUMMY},data_file_raw=on`, evil, "1G");
        const bytes = readFileSync(evil);
        const at = bytes.indexOf(DUMMY);
        expect(at).toBeGreaterThan(0);
        bytes.write(SECRET, at);
        writeFileSync(evil, bytes);
      }
      expect(qemuImg("info", "-U", "--output=json", evil)).toContain(SECRET);
      const before = await inactive();
      try {
        writeHeader(await rootPath(), readFileSync(evil));
        const r = await putXml(before);
        expect({ status: r.status, code: r.body?.error?.code }).toEqual({
          status: 400,
          code: "xml_not_allowed",
        });
        expect(r.body.error.message).toContain(SECRET);
        expect(await inactive()).toBe(before);
        expect(secretState()).toEqual(UNTOUCHED);
        // A start on berth's own definition reads the headers first and refuses (QEMU 7.2 would still try a header's data_file).
        const started = await startAndLook();
        expect({ status: started.status, code: started.code }).toEqual({
          status: 409,
          code: "unsafe_volume",
        });
        expect(started.live).not.toContain(SECRET);
        expect(secretState()).toEqual(UNTOUCHED);
        expect(await inactive()).not.toContain(SECRET);
      } finally {
        await stopVm();
        await cleanRoot();
      }
    }, 120_000);
  }

  /** Inserts `fragment` into the VM's inactive definition before `before` (a closing tag). */
  const withFragment = async (fragment: string, before: string) => {
    const xml = await inactive();
    expect(xml).toContain(before);
    return xml.replace(before, `${fragment}${before}`);
  };
  const cases: [string, string, string, RegExp][] = [
    [
      "a fw_cfg entry read from a relative host path",
      "<sysinfo type='fwcfg'><entry name='opt/berth/x' file='tmp/berth-sx-cidata.iso'/></sysinfo>",
      "</domain>",
      /sysinfo/,
    ],
    [
      "a serial port connected to a host unix socket by a relative path",
      "<serial type='unix'><source mode='connect' path='tmp/berth-sx.sock'/><target port='1'/></serial>",
      "</devices>",
      /serial/,
    ],
    [
      "real-time scheduling of the vcpus (fifo, priority 99)",
      "<cputune><vcpusched vcpus='0' scheduler='fifo' priority='99'/></cputune>",
      "<os>",
      /vcpusched|cputune/,
    ],
    ["locked guest memory", "<memoryBacking><locked/></memoryBacking>", "<os>", /memoryBacking|locked/],
    [
      "VNC on every address without a password",
      "<graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0'><listen type='address' address='0.0.0.0'/></graphics>",
      "</devices>",
      /graphics|listen/,
    ],
  ];
  for (const [what, fragment, before, names] of cases) {
    test(`${what} is refused with xml_not_allowed naming it`, async () => {
      const was = await inactive();
      const r = await putXml(await withFragment(fragment, before));
      expect({ status: r.status, code: r.body?.error?.code }).toEqual({
        status: 400,
        code: "xml_not_allowed",
      });
      expect(r.body.error.message).toMatch(names);
      expect(await inactive()).toBe(was);
    }, 60_000);
  }

  test("on_crash coredump is refused with xml_not_allowed naming on_crash", async () => {
    const was = await inactive();
    const xml = was.replace("<on_crash>destroy</on_crash>", "<on_crash>coredump-destroy</on_crash>");
    expect(xml).not.toBe(was);
    const r = await putXml(xml);
    expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status: 400, code: "xml_not_allowed" });
    expect(r.body.error.message).toMatch(/on_crash/);
    expect(await inactive()).toBe(was);
  }, 60_000);
});
