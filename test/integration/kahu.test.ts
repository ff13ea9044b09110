// The Kahu front on real libvirtd with the tiny guest: every example of Kahu's quickstart as curl sends it, then the Kahu client's own sequence.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/routes/app.ts";
import type { Json } from "../support/http.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady } from "./support/env.ts";
import { consoleReports } from "./support/guest.ts";
import { type TinyPoolEnv, tinyPoolEnv } from "./support/tiny-pool.ts";

const tag = `kh${process.pid}`;
const SIZE = `${tag}-1cpu256mb`;
const KEY = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl kahu-${tag}@example`;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Json;
}

describe.skipIf(!integrationReady())("the Kahu front on libvirtd", () => {
  let env: TinyPoolEnv;
  let server: ReturnType<typeof Bun.serve>;
  let base = "";
  const dir = mkdtempSync(join(tmpdir(), "berth-kahu-"));
  const keyFile = join(dir, "id_rsa.pub");

  /** curl as the document runs it (`curl -i ... -X POST -F a=b`): status, headers and the JSON body. */
  async function curl(path: string, ...args: string[]): Promise<Answer> {
    const p = Bun.spawn(["curl", "-sS", "-i", `${base}${path}`, ...args], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    if ((await p.exited) !== 0) throw new Error(`curl ${path}: ${await new Response(p.stderr).text()}`);
    const [head = "", ...rest] = out.split("\r\n\r\n");
    const [statusLine = "", ...lines] = head.split("\r\n");
    const headers = Object.fromEntries(
      lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
    );
    const text = rest.join("\r\n\r\n");
    return { status: Number(statusLine.split(" ")[1]), headers, body: text ? JSON.parse(text) : null };
  }

  beforeAll(async () => {
    env = await tinyPoolEnv(tag, "192.168.233.0/24");
    const made = await env.api.post("/v1/sizes", { name: SIZE, vcpus: 1, memory_mib: 256 });
    if (made.status !== 201) throw new Error(`size: ${JSON.stringify(made.body)}`);
    const app = createApp(env.core);
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => app.handle(r) });
    base = `http://127.0.0.1:${server.port}`;
    writeFileSync(keyFile, `${KEY}\n`);
  }, 600_000);

  afterAll(async () => {
    server?.stop(true);
    await env?.teardown();
  }, 180_000);

  test("the catalogue: profiles with their network and storage maps, sizes in MiB, this host as hypervisor 0", async () => {
    const profiles = await curl("/v0/compute/profile/", "-X", "GET");
    expect(profiles.status).toBe(200);
    expect(profiles.headers["content-type"]).toStartWith("application/json");
    expect(profiles.body[env.profile]).toMatchObject({
      name: env.profile,
      network: { [env.network]: { type: "virtio", order: 0 } },
      storage: {
        root: { bootable: true, "media-type": "disk", order: 0, size: 1024, tag: null, type: "qcow2" },
      },
    });
    const sizes = await curl("/v0/compute/size/", "-X", "GET");
    expect(sizes.body[SIZE]).toEqual({ memory: 256, ncpu: 1 });
    expect((await curl(`/v0/compute/size/${SIZE}`)).body).toEqual({ memory: 256, ncpu: 1 });
    const hv = await curl("/v0/hypervisor/instance/");
    expect(hv.body["0"]).toMatchObject({ type: "qemu", arch: expect.any(String), name: expect.any(String) });
    expect((await curl("/v0/hypervisor/instance/0")).body).toEqual(hv.body["0"]);
  }, 30_000);

  test("the document's walk-through: create, volumes, start, address, snapshot, stop, delete", async () => {
    const created = await curl(
      "/v0/compute/instance/",
      "-X",
      "POST",
      "-F",
      `profile=${env.profile}`,
      "-F",
      `size=${SIZE}`,
      "-F",
      `ssh-key=@${keyFile}`,
    );
    expect(created.status).toBe(201);
    const id = /^\/v0\/compute\/instance\/([0-9]+)\/$/.exec(created.headers.location ?? "")?.[1] as string;
    expect(id).toBeDefined();
    expect(created.body).toEqual({
      message: "instance created",
      profile: `/v0/compute/profile/${env.profile}/`,
      size: `/v0/compute/size/${SIZE}/`,
      "ssh-key": KEY,
    });
    const one = (await curl(`/v0/compute/instance/${id}`)).body;
    expect(one).toMatchObject({ state: "stopped", profile: `/v0/compute/profile/${env.profile}/` });

    // The document lists the new instance's storage through tenant 0: the same scope as the top level.
    const storage = await curl(`/v0/tenant/0/compute/instance/${id}/storage/`);
    expect(Object.keys(storage.body)).toEqual(["root", "config"]);
    expect(storage.body.config).toMatchObject({ bootable: false, "media-type": "cdrom", order: 1 });

    const vol = await curl(
      `/v0/compute/instance/${id}/storage/`,
      "-X",
      "POST",
      "-F",
      "name=newvol",
      "-F",
      "size=1024",
    );
    expect(vol.status).toBe(201);
    expect(vol.headers.location).toBe(`/v0/compute/instance/${id}/storage/newvol/`);
    expect(vol.body).toEqual({ name: "newvol", size: 1024 });
    const newvol = await curl(`/v0/tenant/0/compute/instance/${id}/storage/newvol`);
    expect(newvol.body).toMatchObject({
      bootable: false,
      "guest-iface": "virtio",
      "media-type": "disk",
      name: "newvol",
      order: 2,
      size: 1024,
      type: "qcow2",
    });

    // A volume from an uploaded image (the document's `file`), added before the instance starts.
    const small = join(dir, "small.qcow2");
    const img = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", small, "64M"], { stderr: "pipe" });
    if (img.exitCode !== 0) throw new Error(`qemu-img: ${img.stderr.toString()}`);
    const up = await curl(
      `/v0/compute/instance/${id}/storage/`,
      "-X",
      "POST",
      "-F",
      "name=up",
      "-F",
      `file=@${small}`,
    );
    expect({ status: up.status, body: up.body, location: up.headers.location }).toEqual({
      status: 201,
      body: { name: "up", size: 64 },
      location: `/v0/compute/instance/${id}/storage/up/`,
    });
    const vm = ((await env.api.get("/v1/vms")).body as Json[]).find((v) =>
      v.disks.some((d: Json) => d.name === "up"),
    ) as Json;
    const upDisk = vm.disks.find((d: Json) => d.name === "up");

    const started = await curl(`/v0/compute/instance/${id}/start`, "-X", "POST");
    expect({ status: started.status, body: started.body }).toEqual({
      status: 200,
      body: { message: "instance started" },
    });
    expect((await curl(`/v0/compute/instance/${id}/start`, "-X", "POST")).status).toBe(400);

    const address = `/v0/compute/instance/${id}/network/${env.network}/address`;
    const before = await curl(address);
    if (before.status !== 200) expect(before.status).toBe(404);
    let ip = "";
    await waitFor(
      async () => {
        const r = await curl(address);
        ip = r.status === 200 ? r.body.IPv4 : "";
        return ip !== "";
      },
      150_000,
      "the instance's DHCP lease",
    );
    expect(ip).toMatch(/^192\.168\.233\.[0-9]+$/);
    // The running domain has the uploaded volume on virtio, and the guest sees a 64 MiB block device.
    const live = await env.core.hv.call("domain.xml", { name: vm.name });
    expect(live).toMatch(
      new RegExp(`<source file='${upDisk.path}'[^]*?<target dev='${upDisk.target}' bus='virtio'/>`),
    );
    const reports = () => consoleReports(`${env.core.config.data_dir}/console/${vm.id}.log`);
    await waitFor(
      () => reports().some((l) => /^block vd[a-z]+ 131072$/.test(l)),
      30_000,
      "the guest's report of vd* 131072",
    );
    expect((await curl(`/v0/compute/instance/${id}/network/nosuch/address`)).status).toBe(404);

    const snap = await curl(
      `/v0/compute/instance/${id}/snapshot/`,
      "-X",
      "POST",
      "-F",
      "name=mysnapshot-2014-12-22",
    );
    expect(snap.status).toBe(200);
    expect(snap.headers.location).toBe(`/v0/compute/instance/${id}/snapshot/mysnapshot-2014-12-22/`);
    const shot = (await curl(`/v0/compute/instance/${id}/snapshot/mysnapshot-2014-12-22`)).body;
    expect(Object.keys(shot).sort()).toEqual(["network", "profile", "size", "storage", "timestamp"]);
    expect(shot.size).toBe(`/v0/compute/size/${SIZE}/`);
    expect(shot.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d)$/);

    const running = await curl(`/v0/tenant/0/compute/instance/${id}/`, "-X", "DELETE");
    expect(running.status).toBe(400);
    const stopped = await curl(`/v0/compute/instance/${id}/stop`, "-X", "POST");
    expect({ status: stopped.status, body: stopped.body }).toEqual({
      status: 200,
      body: { message: "instance stopped" },
    });
    expect((await curl(`/v0/compute/instance/${id}/stop`, "-X", "POST")).status).toBe(400);
    expect((await curl(`/v0/compute/instance/${id}/storage/newvol/`, "-X", "DELETE")).status).toBe(200);
    const deleted = await curl(`/v0/tenant/0/compute/instance/${id}/`, "-X", "DELETE");
    expect({ status: deleted.status, body: deleted.body }).toEqual({
      status: 200,
      body: { message: "instance deleted" },
    });
    expect((await curl(`/v0/compute/instance/${id}`)).status).toBe(404);
  }, 400_000);

  test("the Kahu client's sequence: every field a file part, doubled slashes, Location followed, address polled", async () => {
    // quickstart.py sends requests' files=: each field a file part named after itself.
    const form = new FormData();
    for (const [field, value] of [
      ["size", SIZE],
      ["profile", env.profile],
      ["name", `${tag}-client`],
      ["hypervisor", "/v0/hypervisor/instance/0"],
    ] as const) {
      form.append(field, new Blob([value]), field);
    }
    form.append("ssh-key", new Blob([`${KEY}\n`]), "id_rsa.pub");
    const tenantUrl = `${base}/v0/tenant/1/`;
    const created = await fetch(`${tenantUrl}/compute/instance/`, { method: "POST", body: form });
    expect(created.status).toBe(201);
    const location = created.headers.get("location") as string;
    expect(location).toMatch(/^\/v0\/tenant\/1\/compute\/instance\/[0-9]+\/$/);
    const instance = new URL(location, base).href;
    const id = location.split("/").at(-2) as string;

    // The tenant lists it; the top level (tenant 0) does not.
    const listed = (await (await fetch(`${tenantUrl}/compute/instance/`)).json()) as Json;
    expect(Object.keys(listed)).toEqual([id]);
    expect(listed[id]).toMatchObject({ name: `${tag}-client`, size: `/v0/compute/size/${SIZE}/` });
    expect(Object.keys((await (await fetch(`${base}/v0//compute/instance/`)).json()) as Json)).not.toContain(
      id,
    );
    expect((await fetch(`${base}/v0/compute/instance/${id}`)).status).toBe(404);

    expect((await fetch(`${instance}/start`, { method: "POST" })).status).toBe(200);
    let ip = "";
    await waitFor(
      async () => {
        const r = await fetch(`${instance}/network/${env.network}/address`);
        ip = r.status === 200 ? ((await r.json()) as Json).IPv4 : "";
        return ip !== "";
      },
      150_000,
      "the client's address poll",
    );
    expect(ip).toMatch(/^192\.168\.233\./);
    expect((await fetch(`${instance}/stop`, { method: "POST" })).status).toBe(200);
    const del = await fetch(instance, { method: "DELETE" });
    expect({ status: del.status, body: await del.json() }).toEqual({
      status: 200,
      body: { message: "instance deleted" },
    });
  }, 300_000);
});
