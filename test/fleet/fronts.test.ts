// The fronts on a fleet: PVC's define placed by node and selector, PVC's VM actions forwarded to the VM's host, its node list and flush.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PVC_PORT } from "./support/berth-node.ts";
import { FleetClient } from "./support/client.ts";
import { run, until } from "./support/run.ts";
import { fleetUp, type Topology, USERS, type UserName } from "./support/topology.ts";

let fleet: Topology;
let adminA: FleetClient;
let adminB: FleetClient;
/** Tokens by host and user: a token is its host's, never valid on another. */
const tokens: Record<"a" | "b", Partial<Record<UserName, string>>> = { a: {}, b: {} };

const vmName = (tag: string) => `${tag}-${fleet.id}`;

/** A berth token of `user`, issued by `host`: what a PVC client sends as its `token` value. */
async function tokenOf(host: "a" | "b", user: UserName): Promise<string> {
  const basic = Buffer.from(`${user}:${USERS[user].password}`).toString("base64");
  const r = await fetch(`${fleet.berths[host].api}/v1/tokens`, {
    method: "POST",
    headers: { authorization: `Basic ${basic}` },
    signal: AbortSignal.timeout(10_000),
  });
  expect(r.status).toBe(201);
  return ((await r.json()) as { token: string }).token;
}

interface PvcAnswer {
  status: number;
  body: unknown;
  text: string;
  host: string | null;
}

/**
 * A request as PVC's clients sent them: values in an urlencoded form body (POST) or the query string (GET),
 * the token among them.
 */
async function pvc(
  host: "a" | "b",
  method: "GET" | "POST",
  path: string,
  values: Record<string, string> = {},
  user: UserName = "admin",
): Promise<PvcAnswer> {
  const all = new URLSearchParams({ ...values, token: tokens[host][user] as string });
  const url = `http://${fleet.hosts[host].ip}:${PVC_PORT}/api/v1${path}`;
  const r = await fetch(method === "GET" ? `${url}?${all}` : url, {
    method,
    ...(method === "POST"
      ? { headers: { "content-type": "application/x-www-form-urlencoded" }, body: all.toString() }
      : {}),
    signal: AbortSignal.timeout(180_000),
  });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    body = text; // the XML dump
  }
  return { status: r.status, body, text, host: r.headers.get("x-berth-host") };
}

/** A VM as PVC's users define it: raw libvirt XML, no disk (the firmware idles). */
const domainXml = (name: string, mib: number) => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${mib}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><console type='pty'><target type='serial' port='0'/></console></devices>
</domain>`;

function domains(host: "a" | "b", state = "--all"): string[] {
  return run(["virsh", "-q", "-c", fleet.hosts[host].uri, "list", state, "--name"])
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Waits until host records show these allocated MiB (placement reads the records). */
const recordsShow = (mib: Record<"a" | "b", number>) =>
  until(
    async () => {
      const m = await fleet.members();
      return (["a", "b"] as const).every(
        (h) => (m[h] as { allocation: { memory_mib: number } }).allocation.memory_mib === mib[h],
      );
    },
    15_000,
    `host records to show ${JSON.stringify(mib)} MiB`,
  );

beforeAll(async () => {
  fleet = await fleetUp(3);
  [adminA, adminB] = await Promise.all([
    new FleetClient(fleet.berths.a, "admin").login(),
    new FleetClient(fleet.berths.b, "admin").login(),
  ]);
  for (const h of ["a", "b"] as const)
    for (const u of ["admin", "alice", "bob"] as const) tokens[h][u] = await tokenOf(h, u);
}, 120_000);

afterAll(async () => {
  await fleet?.down();
}, 120_000);

describe("PVC's define on a fleet", () => {
  test("node places the VM on that host, no node places it by the selector (mem by default); bad ones are 510", async () => {
    const [onB, byMem] = [vmName("pdb"), vmName("pdm")];
    const placed = await pvc("a", "POST", "/vm/ignored/define", { xml: domainXml(onB, 64), node: "b" });
    expect(placed.status).toBe(200);
    expect((placed.body as { message: string }).message).toContain(`Added new VM with Name '${onB}'`);
    expect([domains("a"), domains("b")]).toEqual([[], [onB]]);
    await recordsShow({ a: 0, b: 64 });
    // Asked of b, with no node: the least allocated memory is a's.
    const chosen = await pvc("b", "POST", "/vm/ignored/define", {
      xml: domainXml(byMem, 16),
      selector: "mem",
    });
    expect([chosen.status, chosen.host]).toEqual([200, "a"]);
    expect([domains("a"), domains("b")]).toEqual([[byMem], [onB]]);
    const bad = await pvc("a", "POST", "/vm/x/define", { xml: domainXml(vmName("pdx"), 16), node: "nosuch" });
    expect(bad).toMatchObject({
      status: 510,
      body: { message: "ERROR: Specified node 'nosuch' is invalid." },
    });
    const badSel = await pvc("a", "POST", "/vm/x/define", {
      xml: domainXml(vmName("pdx"), 16),
      selector: "x",
    });
    expect(badSel.status).toBe(510);
    expect((badSel.body as { message: string }).message).toContain("Specified selector 'x' is invalid");
    for (const [h, n] of [
      ["b", onB],
      ["a", byMem],
    ] as const)
      expect((await pvc(h === "a" ? "b" : "a", "POST", `/vm/${n}/remove`)).status).toBe(200);
    expect([domains("a"), domains("b")]).toEqual([[], []]);
  }, 180_000);
});

describe("PVC's VM actions at a for a VM of b", () => {
  test("read, dump, start, stop and remove go to b as the caller", async () => {
    const name = vmName("pfw");
    expect((await pvc("b", "POST", "/vm/x/define", { xml: domainXml(name, 32), node: "b" })).status).toBe(
      200,
    );
    expect(domains("b")).toEqual([name]);
    const shown = await pvc("a", "GET", `/vm/${name}`);
    expect([shown.status, shown.host]).toEqual([200, "b"]);
    expect((shown.body as { name: string; node: string; state: string }[])[0]).toMatchObject({
      name,
      node: "b",
      state: "stop",
    });
    const dump = await pvc("a", "GET", `/vm/${name}/dump`);
    expect([dump.status, dump.text.includes(`<name>${name}</name>`)]).toEqual([200, true]);
    expect(await pvc("a", "POST", `/vm/${name}/start`)).toMatchObject({
      status: 200,
      host: "b",
      body: { message: `Starting VM '${name}'.` },
    });
    expect(domains("b", "--state-running")).toEqual([name]);
    // Another user's token: b decides, as on one host (PVC's 510 "Could not find").
    const alices = await pvc("a", "POST", `/vm/${name}/stop`, {}, "alice");
    expect(alices.status).toBe(510);
    expect((alices.body as { message: string }).message).toContain("Could not find VM");
    expect(domains("b", "--state-running")).toEqual([name]);
    expect((await pvc("a", "POST", `/vm/${name}/stop`)).body).toEqual({
      message: `Forcibly stopping VM '${name}'.`,
    });
    expect(domains("b", "--state-running")).toEqual([]);
    // The list covers the fleet, each VM with its node; node= is one host's list.
    const local = vmName("pfa");
    expect((await pvc("a", "POST", "/vm/x/define", { xml: domainXml(local, 16), node: "a" })).status).toBe(
      200,
    );
    const nodes = (r: PvcAnswer) => (r.body as { name: string; node: string }[]).map((v) => [v.name, v.node]);
    const both = [
      [name, "b"],
      [local, "a"],
    ].sort();
    expect(nodes(await pvc("a", "GET", "/vm"))).toEqual(both);
    expect(nodes(await pvc("b", "GET", "/vm", { limit: `^p(fw|fa)-${fleet.id}$` }))).toEqual(both);
    expect(nodes(await pvc("a", "GET", "/vm", { node: "b" }))).toEqual([[name, "b"]]);
    expect((await pvc("a", "GET", "/vm", { limit: "^nosuchvm" })).body).toEqual({ message: "VM not found." });
    // A move's selector is checked (with two hosts the other one is the only target).
    const badSel = await pvc("a", "POST", `/vm/${local}/move`, { selector: "fastest" });
    expect([badSel.status, (badSel.body as { message: string }).message]).toEqual([
      510,
      "ERROR: Specified selector 'fastest' is invalid.",
    ]);
    expect(domains("a")).toEqual([local]);
    expect((await pvc("a", "POST", `/vm/${local}/remove`)).status).toBe(200);
    expect((await pvc("a", "POST", `/vm/${name}/remove`)).body).toEqual({
      message: `Removed VM '${name}' and disks from the cluster.`,
    });
    expect(domains("b")).toEqual([]);
    expect((await pvc("a", "GET", `/vm/${name}`)).status).toBe(404);
    // Where b serves PVC for the other hosts, a client's own request finds nothing, even an admin's.
    const direct = await adminB.call("GET", "/v1/fleet/fronts/pvc/api/v1/node");
    expect(direct.status).toBe(404);
    // Nor is it in b's API document (PVC's own listener documents those routes).
    const doc = await adminB.call("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(
      Object.keys((doc.body as { paths: object }).paths).some((p) => p.startsWith("/v1/fleet/fronts")),
    ).toBe(false);
  }, 120_000);
});

/** Opens a console WebSocket at `host` as `user`: "open", or the refusal Bun's client reports. */
function openConsole(
  host: "a" | "b",
  vm: string,
  user: UserName,
): Promise<{ ws: WebSocket; outcome: string }> {
  const url = `${fleet.berths[host].api.replace("http:", "ws:")}/v1/vms/${vm}/console`;
  const ws = new WebSocket(url, {
    headers: { authorization: `Bearer ${tokens[host][user]}` },
  } as unknown as string[]);
  return new Promise((resolve) => {
    ws.addEventListener("open", () => resolve({ ws, outcome: "open" }));
    ws.addEventListener("error", (e) => resolve({ ws, outcome: (e as ErrorEvent).message ?? "error" }));
  });
}

describe("the console of a VM of b, opened at a", () => {
  test("is proxied to b as the caller: b holds the one session, another user is refused, closing frees it", async () => {
    const name = vmName("con");
    const made = await adminA.call("POST", "/v1/vms?wait=true", {
      cpus: 1,
      memory_mib: 32,
      root_disk_gb: 1,
      host: "b",
      start: true,
      ...{ name },
    });
    expect(made.status).toBe(200);
    const alices = await openConsole("a", name, "alice");
    expect(alices.outcome).toContain("404");
    const proxied = await openConsole("a", name, "admin");
    expect(proxied.outcome).toBe("open");
    // b has the session: a second one there is refused (one session per VM).
    const second = await openConsole("b", name, "admin");
    expect(second.outcome).toContain("409");
    const closed = new Promise((r) => proxied.ws.addEventListener("close", r));
    proxied.ws.close(1000, "done");
    await closed;
    await until(
      async () => {
        const again = await openConsole("b", name, "admin");
        again.ws.close();
        return again.outcome === "open";
      },
      10_000,
      "b's console session to end with the proxied one",
    );
    expect((await adminA.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
  }, 120_000);
});

describe("PVC's nodes on a fleet", () => {
  test("the node list is the fleet's hosts; flush moves b's VMs to a (live when running) and placement skips b; unflush brings them back", async () => {
    const list = await pvc("a", "GET", "/node");
    expect(list.status).toBe(200);
    const nodes = list.body as Record<string, unknown>[];
    expect(nodes.map((n) => n.name)).toEqual(["a", "b"]);
    for (const n of nodes) {
      expect(n).toMatchObject({ daemon_state: "run", domain_state: "ready" });
      expect(typeof n.cpu_count).toBe("string");
      expect(typeof (n.memory as { total: unknown }).total).toBe("number");
      expect(typeof (n.vcpu as { allocated: unknown }).allocated).toBe("string");
    }
    expect(((await pvc("a", "GET", "/node/b")).body as { name: string }[]).map((n) => n.name)).toEqual(["b"]);
    expect((await pvc("a", "GET", "/node/nosuch")).body).toEqual([]);

    const [running, stopped] = [vmName("flr"), vmName("fls")];
    const small = { cpus: 1, memory_mib: 32, root_disk_gb: 1, host: "b" };
    expect(
      (await adminA.call("POST", "/v1/vms?wait=true", { ...small, name: running, start: true })).status,
    ).toBe(200);
    expect(
      (await adminA.call("POST", "/v1/vms?wait=true", { ...small, name: stopped, start: false })).status,
    ).toBe(200);
    expect(domains("b", "--state-running")).toEqual([running]);

    // Admins only.
    const refused = await pvc("a", "POST", "/node/b/flush", {}, "alice");
    expect(refused.status).toBe(510);
    expect(domains("b").sort()).toEqual([running, stopped].sort());

    const flushed = await pvc("a", "POST", "/node/b/flush");
    expect(flushed).toMatchObject({
      status: 200,
      body: { message: "Flushing hypervisor b of running VMs." },
    });
    await until(async () => domains("b").length === 0, 120_000, "b's VMs to leave");
    expect(domains("a").sort()).toEqual([running, stopped].sort());
    // The running one moved live: it never stopped.
    expect(domains("a", "--state-running")).toEqual([running]);
    await until(
      async () =>
        ((await pvc("b", "GET", "/node/b")).body as { domain_state: string }[])[0]?.domain_state ===
        "flushed",
      30_000,
      "b to be flushed",
    );
    await recordsShow({ a: 64, b: 0 });
    // b holds nothing, a 64 MiB, yet b is skipped: the native create and PVC's define both go to a.
    const native = vmName("fln");
    expect(
      (
        await adminB.call("POST", "/v1/vms?wait=true", {
          ...small,
          host: undefined,
          name: native,
          // Large, so that a stays the fuller host while b's VMs come back after the unflush below.
          memory_mib: 128,
          start: false,
        })
      ).status,
    ).toBe(200);
    const defined = vmName("fld");
    expect((await pvc("b", "POST", "/vm/x/define", { xml: domainXml(defined, 16) })).status).toBe(200);
    expect(domains("b")).toEqual([]);

    // unflush (asked at b itself this time): placement may use b again, and a sends b's VMs back.
    expect(await pvc("b", "POST", "/node/b/unflush")).toMatchObject({
      status: 200,
      body: { message: "Restoring hypervisor b to active service." },
    });
    expect(((await pvc("a", "GET", "/node/b")).body as { domain_state: string }[])[0]?.domain_state).toBe(
      "ready",
    );
    const back = vmName("flb");
    expect(
      (
        await adminA.call("POST", "/v1/vms?wait=true", {
          ...small,
          host: undefined,
          name: back,
          start: false,
        })
      ).status,
    ).toBe(200);
    expect(domains("b")).toContain(back);
    await until(
      async () => domains("b").sort().join() === [back, running, stopped].sort().join(),
      120_000,
      "the flushed VMs to come back to b",
    );
    expect(domains("b", "--state-running")).toEqual([running]);
    expect(domains("a").sort()).toEqual([native, defined].sort());
    // Their last node is cleared: nothing to unmigrate.
    expect(
      ((await pvc("a", "POST", `/vm/${running}/unmigrate`)).body as { message: string }).message,
    ).toContain("has not been previously migrated");
    for (const n of [running, stopped, native, back])
      expect((await adminA.call("DELETE", `/v1/vms/${n}?wait=true`)).status).toBe(200);
    expect((await pvc("a", "POST", `/vm/${defined}/remove`)).status).toBe(200);
  }, 400_000);
});

describe("a flush berth did not finish", () => {
  test("goes on when the host's berth starts again", async () => {
    const name = vmName("flre");
    const made = await adminA.call("POST", "/v1/vms?wait=true", {
      name,
      cpus: 1,
      memory_mib: 32,
      root_disk_gb: 1,
      host: "b",
      start: false,
    });
    expect(made.status).toBe(200);
    // What a berth stopped right after its flush began leaves: the state in etcd, its VMs still here.
    await fleet.etcd.client
      .put(`${fleet.prefix}/domain-states/b`)
      .value(JSON.stringify({ state: "flush", at: new Date().toISOString() }));
    await fleet.berths.b.stop();
    await fleet.berths.b.start();
    await fleet.awaitMembers(["a", "b"]);
    await until(async () => domains("b").length === 0, 60_000, "b's VM to leave after the restart");
    expect(domains("a")).toEqual([name]);
    await until(
      async () =>
        ((await pvc("a", "GET", "/node/b")).body as { domain_state: string }[])[0]?.domain_state ===
        "flushed",
      30_000,
      "b to be flushed",
    );
    // ready is unflush's alias: the VM comes back.
    expect((await pvc("b", "POST", "/node/b/ready")).status).toBe(200);
    await until(async () => domains("b").join() === name, 60_000, "the VM to come back to b");
    expect((await adminA.call("DELETE", `/v1/vms/${name}?wait=true`)).status).toBe(200);
  }, 180_000);
});

describe("Kahu's hypervisor on a fleet", () => {
  /** quickstart.py's create: every field a file part (python requests files=), a host's own token. */
  async function kahuCreate(host: "a" | "b", fields: Record<string, string>): Promise<Response> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, new Blob([v]), k);
    return await fetch(`${fleet.berths[host].api}/v0//compute/instance/`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens[host].admin}` },
      body: form,
      signal: AbortSignal.timeout(120_000),
    });
  }

  test("hypervisor/instance/<host> creates the instance on that host, its Location there; 0 is the host asked", async () => {
    const profile = `kp${fleet.id}`;
    for (const c of [adminA, adminB])
      expect(
        (await c.call("POST", "/v1/profiles", { name: profile, cpus: 1, memory_mib: 32, root_disk_gb: 1 }))
          .status,
      ).toBe(201);
    const there = await kahuCreate("a", {
      profile,
      name: vmName("kb"),
      hypervisor: "/v0/hypervisor/instance/b",
    });
    expect([there.status, there.status === 201 ? "" : await there.text()]).toEqual([201, ""]);
    const location = there.headers.get("location") as string;
    expect(location).toMatch(new RegExp(`^${fleet.berths.b.api}/v0/compute/instance/[0-9]+/$`));
    const shown = await fetch(location, {
      headers: { authorization: `Bearer ${tokens.b.admin}` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(shown.status).toBe(200);
    const onB = ((await shown.json()) as { name: string }).name;
    expect(domains("b")).toEqual([onB]);
    expect(domains("a")).toEqual([]);
    // The 2019 document's form, no leading slash, id 0: the host asked.
    const here = await kahuCreate("a", { profile, hypervisor: "v0/hypervisor/instance/0" });
    expect(here.status).toBe(201);
    expect(here.headers.get("location")).toMatch(/^\/v0\/compute\/instance\/[0-9]+\/$/);
    expect(domains("a").length).toBe(1);
    expect((await kahuCreate("a", { profile, hypervisor: "/v0/hypervisor/instance/nosuch" })).status).toBe(
      400,
    );
    for (const n of [onB, ...domains("a")])
      expect((await adminA.call("DELETE", `/v1/vms/${n}?wait=true`)).status).toBe(200);
    expect([domains("a"), domains("b")]).toEqual([[], []]);
  }, 180_000);

  /** A Kahu request to `host` with that host's token of `user`. */
  const kahu = (host: "a" | "b", user: UserName, method: string, path: string) =>
    fetch(`${fleet.berths[host].api}/v0${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens[host][user]}` },
      signal: AbortSignal.timeout(60_000),
    });

  test("<id>@<host> names another host's instance at any host: forwarded there as the caller", async () => {
    const profile = `kq${fleet.id}`;
    for (const c of [adminA, adminB])
      expect(
        (await c.call("POST", "/v1/profiles", { name: profile, cpus: 1, memory_mib: 32, root_disk_gb: 1 }))
          .status,
      ).toBe(201);
    const form = new FormData();
    for (const [k, v] of Object.entries({
      profile,
      name: vmName("kq"),
      hypervisor: "/v0/hypervisor/instance/b",
    }))
      form.append(k, v);
    const made = await fetch(`${fleet.berths.a.api}/v0/compute/instance/`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.a.alice}` },
      body: form,
      signal: AbortSignal.timeout(120_000),
    });
    expect(made.status).toBe(201);
    const id = /\/compute\/instance\/([0-9]+)\/$/.exec(made.headers.get("location") as string)?.[1] as string;
    expect(domains("b")).toEqual([vmName("kq")]);
    // At a, with a's token: read, stop and start it on b by its qualified id; the answer says where it ran.
    const shown = await kahu("a", "alice", "GET", `/compute/instance/${id}@b/`);
    expect([shown.status, shown.headers.get("x-berth-host")]).toEqual([200, "b"]);
    expect(((await shown.json()) as { name: string }).name).toBe(vmName("kq"));
    // Created stopped (Kahu's create does not start): started and stopped on b from a.
    for (const [verb, state] of [
      ["start", "--state-running"],
      ["stop", "--state-shutoff"],
    ] as const) {
      const r = await kahu("a", "alice", "POST", `/compute/instance/${id}@b/${verb}`);
      expect([verb, r.status, r.status === 200 ? "" : await r.text()]).toEqual([verb, 200, ""]);
      await until(() => domains("b", state).join() === vmName("kq"), 60_000, `${verb} on b`);
    }
    // As the caller: another user is refused by b as on b itself.
    expect((await kahu("a", "bob", "GET", `/compute/instance/${id}@b/`)).status).toBe(
      (await kahu("b", "bob", "GET", `/compute/instance/${id}/`)).status,
    );
    // The host's own name is this host's instance; a host that is not a live member is a 503; a plain id is a's own.
    expect((await kahu("b", "alice", "GET", `/compute/instance/${id}@b/`)).status).toBe(200);
    expect((await kahu("a", "alice", "GET", `/compute/instance/${id}@nosuch/`)).status).toBe(503);
    expect((await kahu("a", "alice", "GET", `/compute/instance/${id}/`)).status).toBe(404);
    expect((await kahu("a", "alice", "DELETE", `/compute/instance/${id}@b/`)).status).toBe(200);
    await until(() => domains("b").length === 0, 60_000, "deleted on b");
  }, 180_000);
});
