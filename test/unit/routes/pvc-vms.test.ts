// PVC's node and VM endpoints on the test driver: its statuses (200/404/510/520), arrays and string types, limit, raw XML, auth by token value and session.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { listenerPlan } from "../../../src/config/fronts.ts";
import { ensureStoragePool } from "../../../src/core/storage-pool.ts";
import { createApp } from "../../../src/routes/app.ts";
import { fromXml } from "../../../src/xml/codec.ts";
import { buildVolumeXml } from "../../../src/xml/storage.ts";
import { testConfig, testCore } from "../../support/core.ts";
import type { Json } from "../../support/http.ts";

type Core = Awaited<ReturnType<typeof testCore>>;
interface Reply {
  status: number;
  body: Json;
  text: string;
  headers: Headers;
}

const form = (fields: Record<string, string>): RequestInit => ({
  body: new URLSearchParams(fields).toString(),
  headers: { "content-type": "application/x-www-form-urlencoded" },
});

/** A core with [pvc] on its own listener (answered through app.handle), `extra` config, and a sender to each listener. */
function pvcTarget(prefix: string, extra: () => Promise<string> = async () => "") {
  const env = {} as {
    core: Core;
    pool: string;
    node: string;
    pvc: (method: string, path: string, init?: RequestInit) => Promise<Reply>;
    main: (method: string, path: string, init?: RequestInit) => Promise<Reply>;
    volume: (name: string) => Promise<string>;
    volumes: () => Promise<string[]>;
  };
  beforeAll(async () => {
    env.core = await testCore(
      testConfig(
        `[pvc]\nlisten = "127.0.0.1:1"\n[storage]\npool = "${prefix}-pool"\n[network]\nmanage_bridges = false\n${await extra()}`,
      ),
    );
    env.pool = await ensureStoragePool(env.core);
    const plans = listenerPlan(env.core.config);
    const sender = (plan: (typeof plans)[number]) => {
      const app = createApp(env.core, plan);
      return async (method: string, path: string, init: RequestInit = {}) => {
        const res = await app.handle(new Request(`http://localhost${path}`, { ...init, method }));
        const text = await res.text();
        let body: unknown = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          body = null; // the XML dump
        }
        return { status: res.status, body, text, headers: res.headers };
      };
    };
    env.pvc = sender(plans.find((l) => l.fronts.some((f) => f.front === "pvc")) as (typeof plans)[number]);
    env.main = sender(plans.find((l) => l.main) as (typeof plans)[number]);
    env.node = (await env.core.hv.call("hostInfo", {})).hostname;
    env.volume = async (name) =>
      (
        await env.core.hv.call("volume.create", {
          pool: env.pool,
          xml: buildVolumeXml({ name, capacityBytes: 2 ** 30, format: "qcow2" }),
        })
      ).path;
    env.volumes = async () => (await env.core.hv.call("volume.list", { pool: env.pool })).map((v) => v.name);
  });
  afterAll(() => env.core.close());
  return env;
}

function domXml(core: Core, name: string, disk: string, uuid?: string, mib = 128): string {
  return `<domain type='qemu'>
  <name>${name}</name>${uuid ? `\n  <uuid>${uuid}</uuid>` : ""}
  <description>pvc unit</description>
  <memory unit='MiB'>${mib}</memory>
  <vcpu>2</vcpu>
  <cpu><topology sockets='1' cores='2' threads='1'/></cpu>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <devices>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${disk}'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <serial type='pty'><log file='${core.config.data_dir}/console/${name}.log'/></serial>
  </devices>
</domain>`;
}

/** The domain's run id (changes with every start): tells a restart from none. */
const runId = async (core: Core, name: string) =>
  (fromXml(await core.hv.call("domain.xml", { name })).domain as Record<string, string>)["@id"];

describe("auth off", () => {
  const t = pvcTarget("upvc");
  let uuid = "";

  test("nodes: this host is the one node, in PVC's shape and types", async () => {
    const r = await t.pvc("GET", "/api/v1/node");
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(1);
    const n = r.body[0];
    expect(n).toMatchObject({
      name: t.node,
      daemon_state: "run",
      coordinator_state: "primary",
      domain_state: "ready",
    });
    for (const k of ["cpu_count", "kernel", "os", "arch", "load", "domains_count"])
      expect(typeof n[k]).toBe("string");
    expect(typeof n.vcpu.total).toBe("string");
    expect(typeof n.vcpu.allocated).toBe("string");
    for (const k of ["total", "allocated", "used", "free"]) expect(Number.isInteger(n.memory[k])).toBe(true);
    expect(Array.isArray(n.running_domains)).toBe(true);
    expect((await t.pvc("GET", `/api/v1/node/${t.node}`)).body).toHaveLength(1);
    expect((await t.pvc("GET", "/api/v1/node/no-such-node")).body).toEqual([]);
    expect((await t.pvc("GET", `/api/v1/node?limit=${t.node.slice(1, 3)}`)).body).toHaveLength(1);
    expect((await t.pvc("GET", "/api/v1/node?limit=%5Ezz-none%24")).body).toEqual([]);
    const bad = await t.pvc("GET", "/api/v1/node?limit=(x");
    expect(bad.status).toBe(510);
    expect(bad.body.message).toMatch(/Regex Error/);
  });

  test("node actions: secondary accepted, primary refused, flush/unflush/ready 510 (no other node)", async () => {
    const sec = await t.pvc("POST", `/api/v1/node/${t.node}/secondary`);
    expect(sec).toMatchObject({
      status: 200,
      body: { message: `Setting node ${t.node} in secondary router mode.` },
    });
    expect((await t.pvc("GET", `/api/v1/node/${t.node}`)).body[0].coordinator_state).toBe("primary");
    const pri = await t.pvc("POST", `/api/v1/node/${t.node}/primary`);
    expect(pri.status).toBe(510);
    expect(pri.body.message).toMatch(/already in primary router mode/);
    for (const a of ["flush", "unflush", "ready"]) {
      const r = await t.pvc("POST", `/api/v1/node/${t.node}/${a}`);
      expect({ a, status: r.status, m: r.body.message }).toMatchObject({ a, status: 510 });
      expect(r.body.message).toMatch(/no other node/);
    }
    const other = await t.pvc("POST", "/api/v1/node/elsewhere/flush");
    expect(other.status).toBe(510);
    expect(other.body.message).toMatch(/No node named 'elsewhere'/);
  });

  test("define: xml is mandatory (520), node must be this host (510), name and uuid come from the XML", async () => {
    const none = await t.pvc("POST", "/api/v1/vm/ignored/define", form({}));
    expect(none).toMatchObject({
      status: 520,
      body: { message: "ERROR: A Libvirt XML document must be specified." },
    });
    const disk = await t.volume("upvc-a.qcow2");
    const xml = domXml(t.core, "upvc-a", disk);
    const elsewhere = await t.pvc("POST", "/api/v1/vm/x/define", form({ xml, node: "hv-elsewhere" }));
    expect(elsewhere).toMatchObject({
      status: 510,
      body: { message: "ERROR: Specified node 'hv-elsewhere' is invalid." },
    });
    const r = await t.pvc("POST", "/api/v1/vm/ignored/define", form({ xml, node: t.node, selector: "mem" }));
    expect(r.status).toBe(200);
    const m = /^Added new VM with Name 'upvc-a' and UUID '([0-9a-f-]{36})' to database\.$/.exec(
      r.body.message,
    );
    expect(m).not.toBeNull();
    uuid = (m as RegExpExecArray)[1] as string;
    const bad = await t.pvc("POST", "/api/v1/vm/x/define", form({ xml: "<domain><name>x" }));
    expect(bad.status).toBe(510);
    expect(bad.body.message).toMatch(/^ERROR: /);
  });

  test("GET /vm and /vm/<vm>: arrays of PVC's VM object, by name or uuid; 404 VM not found.", async () => {
    const list = await t.pvc("GET", "/api/v1/vm");
    expect(list.status).toBe(200);
    const vm = list.body.find((v: { name: string }) => v.name === "upvc-a");
    expect(vm).toEqual({
      name: "upvc-a",
      uuid,
      state: "stop",
      node: t.node,
      last_node: "",
      migrated: "no",
      failed_reason: "",
      description: "pvc unit",
      memory: 128,
      vcpu: "2",
      vcpu_topology: "1/2/1",
      networks: [],
      type: "hvm",
      arch: "x86_64",
      // The test driver reports no machine nor emulator; the integration test sees QEMU's.
      machine: "",
      console: "pty", // libvirt adds the console of the first serial
      emulator: "",
      features: ["acpi", "apic"],
      disks: [{ type: "file", name: expect.stringContaining("upvc-a.qcow2"), dev: "sda", bus: "scsi" }],
      controllers: [{ type: "scsi", model: "virtio-scsi" }],
    });
    expect((await t.pvc("GET", "/api/v1/vm/upvc-a")).body).toEqual([vm]);
    expect((await t.pvc("GET", `/api/v1/vm/${uuid}`)).body).toEqual([vm]);
    expect(await t.pvc("GET", "/api/v1/vm/upvc")).toMatchObject({
      status: 404,
      body: { message: "VM not found." },
    });
    expect(await t.pvc("GET", "/api/v1/vm?limit=zz-none")).toMatchObject({
      status: 404,
      body: { message: "VM not found." },
    });
  });

  test("limit: fuzzy on name or uuid, each VM once; bad regex and filters are 510; a catastrophic one is fast", async () => {
    const names = async (q: string) =>
      ((await t.pvc("GET", `/api/v1/vm?${q}`)).body as { name: string }[]).map((v) => v.name);
    expect(await names("limit=vc-")).toEqual(["upvc-a"]);
    expect(await names(`limit=${encodeURIComponent(`^${uuid.slice(0, 8)}`)}`)).toEqual(["upvc-a"]);
    // Matches both its name and its uuid: listed once.
    expect(await names(`limit=${encodeURIComponent(`upvc-a|${uuid.slice(0, 8)}`)}`)).toEqual(["upvc-a"]);
    expect(await names(`state=stop&node=${t.node}`)).toEqual(["upvc-a"]);
    expect((await t.pvc("GET", "/api/v1/vm?state=start")).status).toBe(404);
    const bad = await t.pvc("GET", "/api/v1/vm?limit=%28a");
    expect(bad.status).toBe(510);
    expect(bad.body.message).toMatch(/Regex Error/);
    expect(await t.pvc("GET", "/api/v1/vm?state=sleeping")).toMatchObject({
      status: 510,
      body: { message: "ERROR: VM state 'sleeping' is not valid." },
    });
    expect((await t.pvc("GET", "/api/v1/vm?node=other")).status).toBe(510);
    const t0 = performance.now();
    const evil = await t.pvc(
      "GET",
      `/api/v1/vm?limit=${encodeURIComponent("^(u|up|upv|upvc|-|a|[a-z-])+(x+x+)+y$")}`,
    );
    expect(evil.status).toBe(404);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  test("dump: the XML as text", async () => {
    const r = await t.pvc("GET", "/api/v1/vm/upvc-a/dump");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/xml/);
    expect(r.text).toMatch(/^<domain/);
    expect(r.text).toContain("<name>upvc-a</name>");
    expect((await t.pvc("GET", "/api/v1/vm/nope/dump")).status).toBe(510);
  });

  test("power: start, start again, restart, shutdown, stop; restart of a stopped VM fails as PVC's did", async () => {
    const msg = async (path: string, status = 200) => {
      const r = await t.pvc("POST", path);
      expect({ path, status: r.status }).toEqual({ path, status });
      return r.body.message;
    };
    expect(await msg("/api/v1/vm/upvc-a/start")).toBe("Starting VM 'upvc-a'.");
    expect((await t.pvc("GET", "/api/v1/vm/upvc-a")).body[0].state).toBe("start");
    expect(await msg("/api/v1/vm/upvc-a/start")).toBe("Starting VM 'upvc-a'.");
    const before = await runId(t.core, "upvc-a");
    expect(await msg(`/api/v1/vm/${uuid}/restart`)).toBe(`Restarting VM '${uuid}'.`);
    // Shutdown, then start: a new run of the domain.
    const restarted = async () =>
      (await t.pvc("GET", "/api/v1/vm/upvc-a")).body[0].state === "start" &&
      (await runId(t.core, "upvc-a")) !== before &&
      t.core.ops.list({ status: "running", limit: 10 }).length === 0;
    for (let i = 0; i < 100 && !(await restarted()); i++) await Bun.sleep(20);
    expect(await restarted()).toBe(true);
    expect(await msg("/api/v1/vm/upvc-a/stop")).toBe("Forcibly stopping VM 'upvc-a'.");
    expect((await t.pvc("GET", "/api/v1/vm/upvc-a")).body[0].state).toBe("stop");
    expect(await msg("/api/v1/vm/upvc-a/stop")).toBe("Forcibly stopping VM 'upvc-a'.");
    expect(await msg("/api/v1/vm/upvc-a/restart", 510)).toBe("ERROR: VM 'upvc-a' is not in 'start' state!");
    expect(await msg("/api/v1/vm/upvc-a/shutdown", 510)).toBe("ERROR: VM 'upvc-a' is not in 'start' state!");
    await msg("/api/v1/vm/upvc-a/start");
    expect(await msg("/api/v1/vm/upvc-a/shutdown")).toBe("Shutting down VM 'upvc-a'.");
    for (let i = 0; i < 40 && (await t.pvc("GET", "/api/v1/vm/upvc-a")).body[0].state !== "stop"; i++) {
      await Bun.sleep(50);
    }
    expect((await t.pvc("GET", "/api/v1/vm/upvc-a")).body[0].state).toBe("stop");
    expect(await msg("/api/v1/vm/nope/start", 510)).toBe("ERROR: Could not find VM 'nope' in the cluster!");
  });

  test("move, migrate, unmigrate: 510, there is no other node", async () => {
    for (const a of ["move", "migrate"]) {
      const r = await t.pvc("POST", `/api/v1/vm/upvc-a/${a}`);
      expect(r.status).toBe(510);
      expect(r.body.message).toMatch(/no other node/);
      const other = await t.pvc("POST", `/api/v1/vm/upvc-a/${a}?node=hv2`);
      expect(other.body.message).toBe("ERROR: Specified node 'hv2' is invalid.");
    }
    const un = await t.pvc("POST", "/api/v1/vm/upvc-a/unmigrate");
    expect(un.status).toBe(510);
    expect(un.body.message).toMatch(/has not been previously migrated/);
  });

  test("modify: the xml value or a raw body; flag_restart restarts a running VM on the new XML", async () => {
    const disk = (await t.pvc("GET", "/api/v1/vm/upvc-a")).body[0].disks[0].name as string;
    await t.pvc("POST", "/api/v1/vm/upvc-a/start");
    const before = await runId(t.core, "upvc-a");
    const r = await t.pvc(
      "POST",
      "/api/v1/vm/upvc-a/modify",
      form({ xml: domXml(t.core, "upvc-a", disk, uuid, 192) }),
    );
    expect(r).toMatchObject({ status: 200, body: { message: "" } });
    expect((await t.pvc("GET", "/api/v1/vm/upvc-a")).body[0].memory).toBe(192);
    expect(await runId(t.core, "upvc-a")).toBe(before);
    const raw = await t.pvc("POST", "/api/v1/vm/upvc-a/modify?flag_restart", {
      body: domXml(t.core, "upvc-a", disk, uuid, 256),
      headers: { "content-type": "application/xml" },
    });
    expect(raw).toMatchObject({ status: 200, body: { message: "" } });
    expect((await t.pvc("GET", "/api/v1/vm/upvc-a")).body[0]).toMatchObject({ memory: 256, state: "start" });
    expect(await runId(t.core, "upvc-a")).not.toBe(before);
    expect((await t.pvc("POST", "/api/v1/vm/upvc-a/modify", form({}))).status).toBe(520);
  });

  test("undefine keeps the volumes; remove deletes them", async () => {
    const r = await t.pvc("POST", "/api/v1/vm/upvc-a/undefine");
    expect(r).toMatchObject({ status: 200, body: { message: "Undefined VM 'upvc-a' from the cluster." } });
    expect((await t.pvc("GET", "/api/v1/vm/upvc-a")).status).toBe(404);
    expect(await t.volumes()).toContain("upvc-a.qcow2");
    // The kept volume defines again, then goes with its VM.
    const disk = await t.volume("upvc-b.qcow2");
    expect(
      (await t.pvc("POST", "/api/v1/vm/x/define", form({ xml: domXml(t.core, "upvc-b", disk) }))).status,
    ).toBe(200);
    const rm = await t.pvc("POST", "/api/v1/vm/upvc-b/remove");
    expect(rm).toMatchObject({
      status: 200,
      body: { message: "Removed VM 'upvc-b' and disks from the cluster." },
    });
    expect(await t.volumes()).not.toContain("upvc-b.qcow2");
    expect(await t.volumes()).toContain("upvc-a.qcow2");
  });

  test("a PVC volume a removed VM took with it leaves PVC's volume list too", async () => {
    const added = await t.pvc("POST", "/api/v1/storage/ceph/volume/upvc-pool/att/add", form({ size: "1M" }));
    expect(added.status).toBe(200);
    const path = (await t.core.hv.call("volume.list", { pool: t.pool })).find(
      (v) => v.name === "pvc-att.qcow2",
    )?.path as string;
    expect(
      (await t.pvc("POST", "/api/v1/vm/x/define", form({ xml: domXml(t.core, "upvc-d", path) }))).status,
    ).toBe(200);
    expect((await t.pvc("POST", "/api/v1/vm/upvc-d/remove")).status).toBe(200);
    expect(await t.volumes()).not.toContain("pvc-att.qcow2");
    expect((await t.pvc("GET", "/api/v1/storage/ceph/volume/upvc-pool/att")).body).toEqual([]);
  });

  test("remove never deletes an image's volume: it attaches only read-only, and stays", async () => {
    const disk = await t.volume("upvc-img.qcow2");
    t.core.db
      .query(
        "INSERT INTO images (id, name, kind, format, volume, source, status, created_at) VALUES ('upvc-img-id', 'upvc-img', 'disk', 'qcow2', 'upvc-img.qcow2', 'test', 'ready', '2026-01-01T00:00:00Z')",
      )
      .run();
    try {
      const writable = domXml(t.core, "upvc-c", disk);
      expect((await t.pvc("POST", "/api/v1/vm/x/define", form({ xml: writable }))).body.message).toContain(
        "attach it read-only",
      );
      const readonly = writable.replace("</disk>", "<readonly/></disk>");
      expect((await t.pvc("POST", "/api/v1/vm/x/define", form({ xml: readonly }))).status).toBe(200);

      expect((await t.pvc("POST", "/api/v1/vm/upvc-c/remove")).status).toBe(200);
      expect(await t.volumes()).toContain("upvc-img.qcow2");
    } finally {
      t.core.db.query("DELETE FROM images WHERE id = 'upvc-img-id'").run();
    }
  });

  test("undefine keeps even the volumes berth made for a VM; remove deletes them", async () => {
    t.core.db
      .query("INSERT INTO profiles (name, spec, origin) VALUES (?, ?, 'api')")
      .run("upvc-tiny", JSON.stringify({ cpus: 1, memory_mib: 64, root_disk_gb: 1 }));
    for (const name of ["upvc-n1", "upvc-n2"]) {
      const r = await t.main("POST", "/v1/vms?wait=true", {
        body: JSON.stringify({ name, profile: "upvc-tiny" }),
        headers: { "content-type": "application/json" },
      });
      expect(r.status).toBe(200);
    }
    const own = async (name: string) =>
      (await t.main("GET", `/v1/vms/${name}`)).body.disks[0].volume as string;
    const [v1, v2] = [await own("upvc-n1"), await own("upvc-n2")];
    expect((await t.pvc("POST", "/api/v1/vm/upvc-n1/undefine")).status).toBe(200);
    expect((await t.pvc("POST", "/api/v1/vm/upvc-n2/remove")).status).toBe(200);
    const left = await t.volumes();
    expect({ kept: left.includes(v1), removed: !left.includes(v2) }).toEqual({ kept: true, removed: true });
  });
});

describe("auth on", () => {
  const hash = (pw: string) => Bun.password.hash(pw, { algorithm: "argon2id" });
  const t = pvcTarget(
    "upvca",
    async () =>
      `[auth]\nenabled = true\n[[auth.users]]\nname = "root"\npassword_hash = "${await hash("root-pw")}"\nadmin = true\n` +
      `[[auth.users]]\nname = "alice"\npassword_hash = "${await hash("alice-pw")}"\n`,
  );
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    for (const name of ["root", "alice"]) {
      const basic = `Basic ${Buffer.from(`${name}:${name}-pw`).toString("base64")}`;
      tokens[name] = (await t.main("POST", "/v1/tokens", { headers: { authorization: basic } })).body.token;
    }
  });

  test("without a token: 401 Authentication required; a wrong one: Authentication failed", async () => {
    expect(await t.pvc("GET", "/api/v1/vm")).toMatchObject({
      status: 401,
      body: { message: "Authentication required" },
    });
    expect(await t.pvc("GET", "/api/v1/node?token=berth_wrong")).toMatchObject({
      status: 401,
      body: { message: "Authentication failed" },
    });
  });

  test("the token value: an admin defines from XML; a user may not (510), and sees no one else's VM", async () => {
    const disk = await t.volume("upvca-a.qcow2");
    const xml = domXml(t.core, "upvca-a", disk);
    const refused = await t.pvc("POST", "/api/v1/vm/x/define", form({ xml, token: tokens.alice as string }));
    expect(refused.status).toBe(510);
    expect(await t.volumes()).toContain("upvca-a.qcow2");
    const ok = await t.pvc("POST", `/api/v1/vm/x/define?token=${tokens.root}`, form({ xml }));
    expect(ok.status).toBe(200);
    expect(
      (await t.pvc("GET", `/api/v1/vm?token=${tokens.root}`)).body.map((v: { name: string }) => v.name),
    ).toEqual(["upvca-a"]);
    expect((await t.pvc("GET", `/api/v1/vm?token=${tokens.alice}`)).status).toBe(404);
    const start = await t.pvc("POST", "/api/v1/vm/upvca-a/start", form({ token: tokens.alice as string }));
    expect(start.status).toBe(510);
    const modify = await t.pvc("POST", `/api/v1/vm/upvca-a/modify?token=${tokens.alice}`, {
      body: xml,
      headers: { "content-type": "application/xml" },
    });
    expect(modify.status).toBe(510);
  });

  test("the session cookie from /api/v1/auth/login serves the VM and node routes", async () => {
    const login = await t.pvc("POST", "/api/v1/auth/login", form({ token: tokens.root as string }));
    expect(login.status).toBe(302);
    const cookie = (login.headers.get("set-cookie") as string).split(";")[0] as string;
    const r = await t.pvc("GET", "/api/v1/vm/upvca-a", { headers: { cookie } });
    expect(r.status).toBe(200);
    expect(r.body[0].name).toBe("upvca-a");
    expect((await t.pvc("POST", "/api/v1/vm/upvca-a/remove", { headers: { cookie } })).status).toBe(200);
    expect(await t.volumes()).not.toContain("upvca-a.qcow2");
  });
});
