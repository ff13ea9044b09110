// The iohyve class over wss and https on test:///default: every action on berth's VMs and disks, ownership in core, iohyve's sizes.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SysadmClient } from "./client.ts";
import { type SysadmBerth, sysadmBerth } from "./support.ts";

let s: SysadmBerth;
let root: SysadmClient;
let alice: SysadmClient;

beforeAll(async () => {
  s = await sysadmBerth("sadioh");
  root = await SysadmClient.open(s.ws, s.ca);
  alice = await SysadmClient.open(s.ws, s.ca);
  await root.login("root", "root-pw");
  await alice.login("alice", "alice-pw");
});
afterAll(async () => {
  root?.close();
  alice?.close();
  await s?.berth.stop();
});

test("create, start, listvms, the disks, props, stop and delete of a guest, in iohyve's words and sizes", async () => {
  const name = "sadioh-g1";
  expect(await alice.iohyve({ action: "create", name, size: "2G" })).toEqual({
    create: { name, size: "2G" },
  });
  const listed = (await alice.iohyve({ action: "listvms" })).listvms as Record<string, unknown>;
  expect(listed[name]).toEqual({ vmm: "NO", running: "NO", rcboot: "NO", description: "" });
  expect(await alice.iohyve({ action: "getprops", name })).toEqual({
    getprops: {
      [name]: expect.objectContaining({ name, ram: "512M", cpu: "1", size: "2G", boot: "0", install: "no" }),
    },
  });
  expect(await alice.iohyve({ action: "start", name })).toEqual({ start: { name } });
  expect(((await alice.iohyve({ action: "listvms" })).listvms as Record<string, unknown>)[name]).toEqual(
    expect.objectContaining({ vmm: "YES", running: "YES" }),
  );
  // The test driver hot-plugs nothing: the disks are changed stopped (the integration test does it running).
  expect(await alice.iohyve({ action: "stop", name, force: "true" })).toEqual({ stop: { name } });
  expect(((await alice.iohyve({ action: "listvms" })).listvms as Record<string, unknown>)[name]).toEqual(
    expect.objectContaining({ running: "NO" }),
  );

  expect(await alice.iohyve({ action: "adddisk", name, size: "3G" })).toEqual({
    adddisk: { [name]: { size: "3G" } },
  });
  expect(await alice.iohyve({ action: "listdisks", name })).toEqual({
    listdisks: { disk0: "2G", disk1: "3G" },
  });
  // Growing a volume is not in the test driver: the integration test grows one on real libvirtd.
  // Growing only; disk0 stays; sizes berth cannot make are refused, all in band.
  const inBand = async (args: Record<string, unknown>) =>
    ((await alice.iohyve(args))[args.action as string] as { error?: unknown }).error;
  expect(await inBand({ action: "resizedisk", name, disk: "disk1", size: "1G" })).toEqual(
    expect.stringContaining("shrinking"),
  );
  expect(await inBand({ action: "deletedisk", name, disk: "disk0" })).toBe("disk0 cannot be removed!");
  expect(await inBand({ action: "adddisk", name, size: "512M" })).toBe(
    "size 512M is not a whole number of gigabytes",
  );
  expect(await inBand({ action: "adddisk", name, size: "1G", pool: "tank" })).toEqual(
    expect.stringContaining("pool tank"),
  );
  expect(await alice.iohyve({ action: "deletedisk", name, disk: "disk1" })).toEqual({
    deletedisk: { name, disk: "disk1" },
  });
  expect(await alice.iohyve({ action: "listdisks", name })).toEqual({ listdisks: { disk0: "2G" } });

  expect(await alice.iohyve({ action: "setprop", name, description: "web box", cpu: "2" })).toEqual({
    setprop: { [name]: { description: "web box", cpu: "2" } },
  });
  expect(await inBand({ action: "setprop", name, boot: "1" })).toBe("property boot is read-only in berth");
  expect((await alice.iohyve({ action: "getprops", name })).getprops).toEqual({
    [name]: expect.objectContaining({ description: "web box", cpu: "2" }),
  });

  // Another user's guest is not theirs to touch: core refuses, in band.
  const bobs = "sadioh-root1";
  await root.iohyve({ action: "create", name: bobs, size: "1G" });
  expect(await inBand({ action: "start", name: bobs })).toEqual(expect.any(String));
  expect(
    ((await alice.iohyve({ action: "listvms" })).listvms as Record<string, unknown>)[bobs],
  ).toBeUndefined();
  expect(await root.iohyve({ action: "delete", name: bobs })).toEqual({ delete: { name: bobs } });

  expect(await alice.iohyve({ action: "delete", name })).toEqual({ delete: { name } });
  expect(
    ((await alice.iohyve({ action: "listvms" })).listvms as Record<string, unknown>)[name],
  ).toBeUndefined();
});

test("stop without force asks the guest for an ACPI shutdown and answers at once", async () => {
  const name = "sadioh-acpi";
  await alice.iohyve({ action: "create", name, size: "1G" });
  await alice.iohyve({ action: "start", name });
  expect(await alice.iohyve({ action: "stop", name })).toEqual({ stop: { name } });
  const started = s.berth.core.events
    .since(0)
    .find(
      (e) =>
        e.type === "operation.started" && e.data.kind === "vm.shutdown" && e.data.target === `vm/${name}`,
    );
  expect(started).toBeDefined();
  // The shutdown runs on after the answer; the guest of the test driver powers off.
  const done = await s.berth.core.ops.wait(started?.target.slice("operation/".length) ?? "", 10);
  expect(done.status).toBe("succeeded");
  expect(((await alice.iohyve({ action: "listvms" })).listvms as Record<string, unknown>)[name]).toEqual(
    expect.objectContaining({ running: "NO" }),
  );
  expect(await alice.iohyve({ action: "delete", name })).toEqual({ delete: { name } });
});

test("version, issetup and setup (admins only) answer in shape; install of a guest that is not there is an in-band refusal", async () => {
  expect(await alice.iohyve({ action: "version" })).toEqual({
    version: { version: expect.stringMatching(/^berth /) },
  });
  expect(await alice.iohyve({ action: "issetup" })).toEqual({ issetup: { setup: "true" } });
  expect(await root.iohyve({ action: "setup", pool: "tank", nic: "re0" })).toEqual({
    setup: { pool: "tank", nic: "re0" },
  });
  expect((await alice.iohyve({ action: "setup", pool: "tank", nic: "re0" })).setup).toEqual({
    error: expect.any(String),
  });
  expect(await alice.iohyve({ action: "install", name: "x", iso: "y.iso" })).toEqual({
    install: { error: expect.stringContaining("x") },
  });
});

const basic = (user: string) => `Basic ${Buffer.from(`${user}:${user}-pw`).toString("base64")}`;

test("REST over https: Basic per request, the body is the args, the reply {args} as text/json; refusals by status", async () => {
  const put = (body: string, auth?: string, path = "/sysadm/iohyve") =>
    fetch(`https://${s.rest}${path}`, {
      method: "PUT",
      body,
      headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
      tls: { ca: s.ca },
    });
  const ok = await put(JSON.stringify({ action: "issetup" }), basic("alice"));
  expect(ok.status).toBe(200);
  expect(ok.headers.get("content-type")).toBe("text/json; charset=utf-8");
  expect(await ok.json()).toEqual({ args: { issetup: { setup: "true" } } });
  // An args member is the args too.
  expect(await (await put(JSON.stringify({ args: { action: "version" } }), basic("alice"))).json()).toEqual({
    args: { version: { version: expect.stringMatching(/^berth /) } },
  });
  expect((await put(JSON.stringify({ action: "listvms" }))).status).toBe(401);
  const bad = await put(JSON.stringify({ action: "fly" }), basic("alice"));
  expect({ status: bad.status, body: await bad.json() }).toEqual({
    status: 400,
    body: { args: { code: "bad_request", message: "unknown action fly" } },
  });
  expect((await put(JSON.stringify({ action: "x" }), basic("alice"), "/sysadm/pkg")).status).toBe(404);
  // Plain HTTP is not served there.
  const plain = await fetch(`http://${s.rest}/sysadm/iohyve`, { method: "PUT", body: "{}" }).then(
    (r) => r.status,
    () => "refused",
  );
  expect(plain).not.toBe(200);
});

test("PUT /sysadm/iohyve on the main listener (plain HTTP, berth's auth), in its OpenAPI document", async () => {
  const r = await fetch(`http://${s.main}/sysadm/iohyve`, {
    method: "PUT",
    body: JSON.stringify({ action: "listisos" }),
    headers: { "content-type": "application/json", authorization: basic("alice") },
  });
  expect({ status: r.status, body: await r.json() }).toEqual({
    status: 200,
    body: { args: { listisos: [] } },
  });
  const docs = (await (await fetch(`http://${s.main}/openapi.json`)).json()) as {
    paths: Record<string, unknown>;
  };
  expect(Object.keys(docs.paths)).toContain("/sysadm/{name}");
});
