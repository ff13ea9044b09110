// Issue 10 findings 2, 5, 6 (URLs) and 9 (FIFO) on real libvirtd and a real berth: host paths, SSRF, credentials in URLs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../integration/support/daemons.ts";
import { integrationReady, run } from "../integration/support/env.ts";
import { buildGuest, consoleReports, GUEST } from "../integration/support/guest.ts";
import type { Json } from "../support/http.ts";
import { BerthProcess } from "./support/berth-process.ts";
import { type OutsideHost, outsideHost } from "./support/outside-host.ts";

const ready = integrationReady();
const T = `si${process.pid % 100_000}`;
const USER = "mirror-user";
const PASSWORD = "s3cret-pa55";

/** Path imports off, private networks refused: berth's defaults. */
let locked: BerthProcess;
/** The same defaults but one import directory. */
let open: BerthProcess;
let importDir: string;
let outside: OutsideHost;
/** Loopback servers a redirect might reach: every request they get is a finding. */
const loopbackHits: string[] = [];
let loop4: ReturnType<typeof Bun.serve>;
let loop6: ReturnType<typeof Bun.serve>;
function recordLoopback(r: Request): Response {
  loopbackHits.push(r.url);
  return new Response("loopback secret");
}
/** The SSE text /v1/events sent while the test ran. */
let eventsText = "";
const eventsStop = new AbortController();

async function readEvents(b: BerthProcess): Promise<void> {
  const res = await fetch(`${b.base}/v1/events`, { signal: eventsStop.signal });
  const dec = new TextDecoder();
  try {
    for await (const chunk of res.body as ReadableStream<Uint8Array>) eventsText += dec.decode(chunk);
  } catch (e) {
    if (!eventsStop.signal.aborted) throw e;
  }
}

async function importWait(b: BerthProcess, body: Json) {
  return b.api("POST", "/v1/images?wait=true", body, 120_000);
}

/** Deletes the VMs, profiles and images berth `b` holds (each list answered by the API). */
async function removeObjects(b: BerthProcess): Promise<void> {
  const names = async (path: string): Promise<string[]> => {
    const r = await b.get(path);
    return Array.isArray(r.body) ? r.body.map((o: Json) => String(o.name)) : [];
  };
  for (const vm of await names("/v1/vms"))
    await b.api("DELETE", `/v1/vms/${vm}?wait=true`, undefined, 120_000);
  for (const p of await names("/v1/profiles")) await b.api("DELETE", `/v1/profiles/${p}`);
  for (const i of await names("/v1/images")) await b.api("DELETE", `/v1/images/${i}`);
}

/** As user nobody (no groups): exit status and output of argv. */
function asNobody(argv: string[]) {
  return run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...argv]);
}

describe.if(ready)("host paths, URL fetches and URL credentials on real libvirtd", () => {
  beforeAll(async () => {
    buildGuest();
    importDir = mkdtempSync(join(tmpdir(), `berth-${T}-imports-`));
    copyFileSync(GUEST.kernel, join(importDir, "vmlinuz"));
    copyFileSync(GUEST.initrd, join(importDir, "initrd.img"));
    const made = run(["qemu-img", "create", "-q", "-f", "qcow2", join(importDir, "disk.qcow2"), "64M"]);
    if (!made.ok) throw new Error(made.out);
    // Escapes an import dir can hold: a symlink to a root-only file, a symlinked directory, a FIFO.
    symlinkSync("/etc/shadow", join(importDir, "shadow.qcow2"));
    symlinkSync("/etc", join(importDir, "etc"));
    run(["mkfifo", join(importDir, "pipe.qcow2")]);

    loop4 = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: recordLoopback,
    });
    loop6 = Bun.serve({
      hostname: "::1",
      port: 0,
      fetch: recordLoopback,
    });
    outside = await outsideHost(T.slice(-6), 200 + (process.pid % 50), {
      file: join(importDir, "disk.qcow2"),
      user: USER,
      password: PASSWORD,
      redirects: {
        loopback: `http://127.0.0.1:${loop4.port}/`,
        ipv6: `http://[::1]:${loop6.port}/`,
        decimal: `http://2130706433:${loop4.port}/`,
        hex: `http://0x7f000001:${loop4.port}/`,
        self: "/",
      },
    });

    locked = new BerthProcess({ tag: `${T}-l` });
    open = new BerthProcess({ tag: `${T}-o`, extraToml: `[images]\nimport_dirs = ["${importDir}"]\n` });
    await locked.start();
    await open.start();
    void readEvents(open);
  }, 600_000);

  afterAll(async () => {
    eventsStop.abort();
    try {
      for (const b of [open, locked]) if (b?.running) await removeObjects(b);
    } finally {
      // What the test set up on the host goes whatever happened above.
      for (const b of [open, locked]) {
        if (!b) continue;
        await b.stop();
        run(["virsh", "-c", "qemu:///system", "pool-destroy", b.storagePool]);
        run(["virsh", "-c", "qemu:///system", "pool-undefine", b.storagePool]);
        rmSync(b.dir, { recursive: true, force: true });
      }
      await outside?.remove();
      loop4?.stop(true);
      loop6?.stop(true);
      if (importDir) rmSync(importDir, { recursive: true, force: true });
    }
  }, 300_000);

  describe("finding 2: host-path imports", () => {
    test("with import_dirs empty (the default) every path is refused: /etc/shadow, berth.toml, berth.db", async () => {
      for (const path of [
        "/etc/shadow",
        "/etc/berth/berth.toml",
        locked.configFile,
        join(locked.dataDir, "berth.db"),
        join(importDir, "disk.qcow2"),
      ]) {
        const r = await locked.api("POST", "/v1/images", { name: "steal", kind: "disk", path });
        expect([r.status, r.body.error?.code]).toEqual([403, "path_not_allowed"]);
        expect(r.body.error.message).toStartWith("importing from host paths is off");
      }
      expect((await locked.get("/v1/images")).body).toEqual([]);
    });

    test("with an import dir, files outside it and escapes out of it are refused; a FIFO without hanging", async () => {
      const cases: [string, number, RegExp][] = [
        ["/etc/shadow", 403, /is not inside \[images\] import_dirs/],
        ["/etc/berth/berth.toml", 403, /is not inside \[images\] import_dirs/],
        [open.configFile, 403, /is not inside \[images\] import_dirs/],
        [join(open.dataDir, "berth.db"), 403, /is not inside \[images\] import_dirs/],
        [join(importDir, "shadow.qcow2"), 403, /is not inside \[images\] import_dirs/],
        [join(importDir, "etc", "shadow"), 403, /is not inside \[images\] import_dirs/],
        [`${importDir}/../../etc/shadow`, 400, /must not contain "\.\." segments/],
        [join(importDir, "pipe.qcow2"), 400, /is not a regular file/],
      ];
      for (const [path, status, message] of cases) {
        const r = await open.api("POST", "/v1/images?wait=true", { name: "steal", kind: "disk", path }, 5000);
        expect([path, r.status]).toEqual([path, status]);
        expect(r.body.error.message).toMatch(message);
        expect(r.ms).toBeLessThan(5000);
      }
      expect((await open.get("/v1/images")).body).toEqual([]);
    });

    test("an allowed import is stored where others cannot read it, and a VM still boots from it", async () => {
      const kernel = await importWait(open, {
        name: `${T}-k`,
        kind: "kernel",
        kernel: { path: join(importDir, "vmlinuz") },
        initrd: { path: join(importDir, "initrd.img") },
      });
      expect(kernel.status).toBe(200);
      const disk = await importWait(open, {
        name: `${T}-d`,
        kind: "disk",
        path: join(importDir, "disk.qcow2"),
      });
      expect(disk.status).toBe(200);
      const pool = open.poolPath;
      expect((statSync(pool).mode & 0o777).toString(8)).toBe("711");
      for (const f of readdirSync(pool))
        expect([f, (statSync(join(pool, f)).mode & 0o077).toString(8)]).toEqual([f, "0"]);
      // Another host user can neither list the pool nor read an image in it.
      expect(asNobody(["ls", pool]).ok).toBe(false);
      expect(asNobody(["cat", disk.body.result.path])).toMatchObject({ ok: false });
      expect(asNobody(["cat", kernel.body.result.path]).out).toContain("Permission denied");

      // The root disk is a linked clone of the 0600 image; the kernel and initrd are 0600 too.
      const profile = await open.api("POST", "/v1/profiles", {
        name: `${T}-p`,
        image: `${T}-d`,
        cpus: 1,
        memory_mib: 256,
        boot: { mode: "kernel", kernel_image: `${T}-k`, cmdline: GUEST.cmdline },
      });
      expect(profile.status).toBe(201);
      const vm = await open.api("POST", "/v1/vms?wait=true", { name: `${T}-vm`, profile: `${T}-p` }, 120_000);
      if (vm.status !== 200) throw new Error(`vm create: ${vm.status} ${JSON.stringify(vm.body)}`);
      const log = join(open.dataDir, "console", `${vm.body.result.id}.log`);
      await waitFor(
        () => consoleReports(log).some((l) => /^block sda \d+$/.test(l)),
        120_000,
        "the guest booted and saw its disk",
      );
      // Still unreadable to others while QEMU holds it.
      expect(asNobody(["cat", disk.body.result.path]).ok).toBe(false);
    }, 300_000);
  });

  describe("finding 5: URLs reach only public addresses, checked on every connection", () => {
    test("loopback in every spelling is refused at once; nothing reaches the loopback servers", async () => {
      for (const host of ["127.0.0.1", "[::1]", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]"]) {
        const port = host.includes(":") && host !== "[::ffff:127.0.0.1]" ? loop6.port : loop4.port;
        const r = await open.api("POST", "/v1/images", {
          name: "ssrf",
          kind: "disk",
          url: `http://${host}:${port}/x`,
        });
        expect([host, r.status, r.body.error]).toEqual([
          host,
          400,
          { code: "address_not_allowed", message: "image: refused: address not allowed" },
        ]);
        const install = await open.api("POST", "/v1/vms", {
          name: "ssrf-vm",
          cpus: 1,
          memory_mib: 64,
          install: { location: `http://${host}:${port}/debian/` },
        });
        expect([host, install.status, install.body.error.code]).toEqual([host, 400, "address_not_allowed"]);
      }
      // A name that resolves to loopback is refused on the resolved address.
      const named = await importWait(open, {
        name: "ssrf",
        kind: "disk",
        url: `http://localhost:${loop4.port}/x`,
      });
      expect([named.status, named.body.error.message]).toEqual([
        400,
        `image http://localhost:${loop4.port}/x: refused: address not allowed`,
      ]);
      expect(loopbackHits).toEqual([]);
    });

    test("an allowed server's redirect to loopback is refused at the redirect; to itself it is followed", async () => {
      const followed = await importWait(open, {
        name: `${T}-hop`,
        kind: "disk",
        url: outside.url("/to-self/disk.qcow2"),
      });
      expect(followed.status).toBe(200);
      for (const to of ["loopback", "ipv6", "decimal", "hex"]) {
        const url = outside.url(`/to-${to}/disk.qcow2`);
        const r = await importWait(open, { name: "ssrf", kind: "disk", url });
        expect([to, r.status, r.body.error]).toEqual([
          to,
          400,
          {
            code: "address_not_allowed",
            message: `image ${url}: refused: address not allowed`,
            details: { operation: r.body.error.details.operation },
          },
        ]);
      }
      const install = await open.api("POST", "/v1/vms", {
        name: "ssrf-vm",
        cpus: 1,
        memory_mib: 64,
        install: { location: outside.url("/to-loopback/debian/") },
      });
      expect([install.status, install.body.error.code]).toEqual([400, "address_not_allowed"]);
      expect(loopbackHits).toEqual([]);
      expect((await open.get("/v1/images/ssrf")).status).toBe(404);
    });

    test("a closed port, a refused one (not HTTP), one that hangs up and a silent one give the same error", async () => {
      const p = outside.ports;
      const answers = await Promise.all(
        [p.closed, p.banner, p.hangUp, p.silent].map((port, i) =>
          importWait(open, { name: `ssrf-port-${i}`, kind: "disk", url: outside.url("/x.qcow2", port) }),
        ),
      );
      const said = answers.map((a, i) => {
        const port = [p.closed, p.banner, p.hangUp, p.silent][i];
        return {
          status: a.status,
          code: a.body.error.code,
          message: a.body.error.message.replace(`:${port}/`, ":PORT/"),
        };
      });
      expect(new Set(said.map((s) => JSON.stringify(s)))).toEqual(
        new Set([
          JSON.stringify({
            status: 502,
            code: "fetch_failed",
            message: `image http://${outside.address}:PORT/x.qcow2: fetch failed`,
          }),
        ]),
      );
    }, 120_000);
  });

  describe("finding 6: credentials in image URLs", () => {
    test("are used to fetch, and never shown: images, operations, events, log", async () => {
      const url = outside.url("/private/disk.qcow2").replace("http://", `http://${USER}:${PASSWORD}@`);
      const shown = outside.url("/private/disk.qcow2").replace("http://", "http://***@");
      const ok = await importWait(open, { name: `${T}-cred`, kind: "disk", url });
      expect(ok.status).toBe(200);
      expect(ok.body.result.source).toBe(shown);
      const bad = await importWait(open, {
        name: `${T}-cred-404`,
        kind: "disk",
        url: url.replace("/private/", "/nope/"),
      });
      expect(bad.body.error.message).toBe(
        `image ${shown.replace("/private/", "/nope/")}: answered 404 Not Found`,
      );
      // Without them the server refuses: the stored URL kept them for the fetch.
      const anon = await importWait(open, {
        name: `${T}-anon`,
        kind: "disk",
        url: outside.url("/private/disk.qcow2"),
      });
      expect(anon.body.error.message).toEndWith("answered 401 Unauthorized");

      const seen = [
        (await open.get(`/v1/images/${T}-cred`)).body,
        (await open.get("/v1/images")).body,
        (await open.get(`/v1/operations/${ok.body.id}`)).body,
        (await open.get(`/v1/operations/${bad.body.error.details.operation}`)).body,
        (await open.get("/v1/operations")).body,
      ].map((b) => JSON.stringify(b));
      await Bun.sleep(500);
      // berth's log (warn and up), where failed operations are written.
      const logText = existsSync(open.logFile) ? readFileSync(open.logFile, "utf8") : "";
      for (const text of [...seen, eventsText, logText]) {
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(USER);
      }
      expect(seen[0]).toContain("***@");
      expect(eventsText).toContain("***@");
    }, 120_000);
  });
});
