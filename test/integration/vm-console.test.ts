// The interactive serial console on real libvirtd: a real WebSocket types into the tiny guest's shell and reads its answer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { dirname } from "node:path";
import { fromWire } from "../../src/core/hypervisor/client.ts";
import { ConsoleHub } from "../../src/core/hypervisor/console-hub.ts";
import { tokenProtocol } from "../../src/routes/socket-protocol.ts";
import { type RunningBerth, startBerth } from "../../src/server.ts";
import { apiClient } from "../support/api.ts";
import { testConfig, testCore } from "../support/core.ts";
import { WORKERS } from "../support/workers.ts";
import { waitFor } from "./support/daemons.ts";
import { integrationReady, SYSTEM_URI } from "./support/env.ts";
import { buildGuest, consoleReports, GUEST } from "./support/guest.ts";
import { dropStoragePool, type SystemCore } from "./support/system-core.ts";

const id = `${process.pid}`;
const POOL = `berth-it-con-${id}`;
const VM = `con-${id}`;
const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

/** A port nobody listens on right now: the kernel picks it for a throwaway listener. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = probe.port as number;
  probe.stop(true);
  return p;
}

/** A WebSocket and everything it received, as text, with how it ended. */
interface Console {
  ws: WebSocket;
  text(): string;
  closed: Promise<{ code: number; reason: string }>;
}

describe.skipIf(!integrationReady())("the serial console over a WebSocket", () => {
  let berth: RunningBerth;
  let core: RunningBerth["core"];
  let port = 0;
  let stopped = false;
  const tokens: Record<string, string> = {};
  const base = () => `127.0.0.1:${port}`;

  const call = async (user: string, method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${tokens[user]}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const r = await fetch(`http://${base()}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  const ok = async (p: ReturnType<typeof call>, want = 200) => {
    const r = await p;
    if (r.status !== want) throw new Error(`expected ${want}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r;
  };

  /** A WebSocket handshake by hand, so a refusal's HTTP status and body can be read (a WebSocket client hides them). */
  const handshake = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      let got = "";
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: ${base()}`,
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      const done = (s: { end(): void }) => {
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? 0);
        const [, body = ""] = got.split("\r\n\r\n");
        const length = Number(/content-length: (\d+)/i.exec(got)?.[1] ?? 0);
        if (status === 101 || (got.includes("\r\n\r\n") && body.length >= length)) {
          s.end();
          resolve({ status, body });
        }
      };
      Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open: (s) => void s.write(`${lines.join("\r\n")}\r\n\r\n`),
          data: (s, d) => {
            got += d.toString();
            done(s);
          },
          error: (_s, e) => reject(e),
        },
      }).catch(reject);
    });

  const open = (user: string, opts: { query?: string; viaProtocol?: boolean } = {}) =>
    new Promise<Console>((resolve, reject) => {
      const url = `ws://${base()}/v1/vms/${VM}/console?follow=1${opts.query ?? ""}`;
      const token = tokens[user] as string;
      const ws = opts.viaProtocol
        ? new WebSocket(url, ["berth.console", tokenProtocol(token)])
        : new WebSocket(url, { headers: { authorization: `Bearer ${token}` } } as unknown as string[]);
      ws.binaryType = "arraybuffer";
      let received = "";
      const decoder = new TextDecoder();
      ws.onmessage = (ev) => {
        received +=
          typeof ev.data === "string" ? `[text frame ${ev.data}]` : decoder.decode(ev.data as ArrayBuffer);
      };
      const closed = new Promise<{ code: number; reason: string }>((res) => {
        ws.onclose = (ev) => res({ code: ev.code, reason: ev.reason });
      });
      ws.onopen = () => resolve({ ws, text: () => received, closed });
      ws.onerror = () => reject(new Error(`console WebSocket for ${user} failed to open`));
    });

  /** Types `line` and Enter, then waits until the console printed `answer`. */
  const ask = async (c: Console, line: string, answer: string) => {
    c.ws.send(new TextEncoder().encode(`${line}\r`));
    await waitFor(() => c.text().includes(answer), 30_000, `the guest's answer ${answer}`);
  };

  beforeAll(async () => {
    buildGuest();
    const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
    const user = (name: string, admin = false) =>
      `[[auth.users]]\nname = "${name}"\npassword_hash = "${hash}"\nadmin = ${admin}\n`;
    const images = `[images]\nimport_dirs = [${JSON.stringify(dirname(GUEST.kernel))}]\n`;
    port = freePort();
    // A whole berth (startBerth), so its stop with a console attached is tested as it runs.
    const config = testConfig(
      `[hypervisor]\ndomain_type = "qemu"\nworkers = 2\n[storage]\npool = "${POOL}"\n${images}[demo]\nenabled = false\n[auth]\nenabled = true\n${user("alice")}${user("bob")}${user("root", true)}`,
      { BERTH_HYPERVISOR_URI: SYSTEM_URI, BERTH_LISTEN: base() },
    );
    chmodSync(config.data_dir, 0o711); // QEMU must reach the pool below it
    berth = await startBerth(config, WORKERS);
    core = berth.core;
    for (const name of ["alice", "bob", "root"]) {
      const r = await fetch(`http://${base()}/v1/tokens`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from(`${name}:pw`).toString("base64")}` },
      });
      expect(r.status).toBe(201);
      tokens[name] = ((await r.json()) as { token: string }).token;
    }
    await ok(
      call("root", "POST", "/v1/images?wait=true", {
        name: `tiny-${id}`,
        kind: "kernel",
        kernel: { path: GUEST.kernel },
        initrd: { path: GUEST.initrd },
      }),
    );
    await ok(call("root", "POST", "/v1/sizes", { name: `s${id}`, vcpus: 1, memory_mib: 256 }), 201);
    await ok(
      call("root", "POST", "/v1/profiles", {
        name: `tiny-${id}`,
        size: `s${id}`,
        root_disk_gb: 1,
        networks: [],
        boot: { mode: "kernel", kernel_image: `tiny-${id}`, cmdline: GUEST.cmdline },
      }),
      201,
    );
    const vm = (await ok(call("alice", "POST", "/v1/vms?wait=true", { name: VM, profile: `tiny-${id}` })))
      .body.result;
    const log = `${core.config.data_dir}/console/${vm.id}.log`;
    await waitFor(() => consoleReports(log).includes("listening 8080"), 120_000, "the guest's shell");
  }, 600_000);

  afterAll(async () => {
    if (!core) return;
    // The last test stopped berth: a core on the same data directory cleans up through the API.
    const cleanup = stopped
      ? await testCore({ ...core.config, auth: { ...core.config.auth, enabled: false } })
      : null;
    const api = cleanup ? apiClient(cleanup) : null;
    const del = (path: string) => (api ? api.delete(path) : call("root", "DELETE", path));
    await del(`/v1/vms/${VM}?wait=true`);
    await del(`/v1/profiles/tiny-${id}`);
    await del(`/v1/sizes/s${id}`);
    await del(`/v1/images/tiny-${id}`);
    const left = await dropStoragePool((cleanup ?? core) as SystemCore, POOL);
    if (cleanup) await cleanup.close();
    else await berth.stop();
    expect(left).toEqual([]);
  }, 120_000);

  test("the owner types a command into the guest's shell and reads its answer; a second attach is 409; bob is refused", async () => {
    const c = await open("alice");
    try {
      // The answer (42) is computed by the guest: it is not in what was typed, so the tty's echo cannot fake it.
      await ask(c, `echo BERTH-$((6*7))-${id}`, `BERTH-42-${id}`);
      const second = await handshake(`/v1/vms/${VM}/console`, { authorization: `Bearer ${tokens.alice}` });
      expect(second.status).toBe(409);
      expect(JSON.parse(second.body).error.message).toContain("already has a console session");
      const bob = await handshake(`/v1/vms/${VM}/console`, { authorization: `Bearer ${tokens.bob}` });
      expect(bob.status).toBe(404);
      const anonymous = await handshake(`/v1/vms/${VM}/console`, {});
      expect(anonymous.status).toBe(401);
      expect(core.hv.consoles.sessions()).toEqual([VM]);
    } finally {
      c.ws.close();
    }
    await c.closed;
    await waitFor(
      () => core.hv.consoles.sessions().length === 0,
      5_000,
      "the session to end with its socket",
    );
  }, 120_000);

  test("a browser's way in (the token as a subprotocol) works; an admin's force=1 takes the console over", async () => {
    const first = await open("alice", { viaProtocol: true });
    expect(first.ws.protocol).toBe("berth.console");
    await ask(first, `echo P-$((7*6))`, "P-42");
    const admin = await open("root", { query: "&force=1" });
    const ended = await first.closed;
    expect(ended.reason).toContain("an admin took the console over");
    await ask(admin, `echo A-$((2+3))`, "A-5");
    // Input is binary frames only: a text frame closes the socket with 1003 and ends the session.
    admin.ws.send("echo text\r");
    expect((await admin.closed).code).toBe(1003);
    await waitFor(
      () => core.hv.consoles.sessions().length === 0,
      5_000,
      "the session to end with its socket",
    );
  }, 120_000);

  test("a hypervisor reset ends the session and frees libvirt's console: the next attach works; a console held elsewhere is 409", async () => {
    const c = await open("alice");
    await ask(c, `echo R-$((4+4))`, "R-8");
    await core.hv.consoles.reset("hypervisor unavailable: test reset");
    const ended = await c.closed;
    expect(ended.reason).toContain("test reset");
    expect(core.hv.consoles.sessions()).toEqual([]);
    // Another holder of the console (as another berth or virsh would be): libvirt itself refuses the second.
    const other = new ConsoleHub(WORKERS.hypervisor, SYSTEM_URI, 10_000, fromWire);
    let otherEnded = "";
    const held = await other.open(VM, false, {
      data: () => {},
      end: (r) => {
        otherEnded = r;
      },
    });
    try {
      const refused = await handshake(`/v1/vms/${VM}/console`, { authorization: `Bearer ${tokens.alice}` });
      expect(refused.status).toBe(409);
      expect(JSON.parse(refused.body).error.message).toContain("Active console session");
    } finally {
      held.close();
      await other.close();
    }
    expect(otherEnded).toBe("");
    const again = await open("alice");
    await ask(again, `echo R-$((5+5))`, "R-10");
    again.ws.close();
    await again.closed;
  }, 120_000);

  test("berth vm console: types through the API, prints the answer, Ctrl-] leaves with 0; refusals print the API's message", async () => {
    const cli = (user: string, extra: string[] = []) =>
      Bun.spawn([process.execPath, MAIN, "vm", "console", VM, "--url", `http://${base()}`, ...extra], {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, BERTH_TOKEN: tokens[user] },
      });
    const p = cli("alice");
    let out = "";
    const reader = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of p.stdout) out += decoder.decode(chunk);
    })();
    await waitFor(() => core.hv.consoles.sessions().includes(VM), 10_000, "the CLI's session");
    p.stdin.write(`echo C-$((3*3))-${id}\r`);
    p.stdin.flush();
    await waitFor(() => out.includes(`C-9-${id}`), 30_000, "the answer on the CLI's stdout");
    const busy = cli("alice");
    expect(await busy.exited).toBe(1);
    expect(await new Response(busy.stderr).text()).toContain("already has a console session");
    const bob = cli("bob");
    expect(await bob.exited).toBe(3);
    expect(await new Response(bob.stderr).text()).toContain(`vm ${VM} does not exist`);
    p.stdin.write(new Uint8Array([0x1d]));
    p.stdin.flush();
    expect(await p.exited).toBe(0);
    await reader;
    await waitFor(() => core.hv.consoles.sessions().length === 0, 5_000, "the session to end with the CLI");
  }, 120_000);

  test("berth vm console at a terminal: raw mode while attached (no echo, no line editing), Ctrl-] leaves with 0 and the terminal is cooked again", async () => {
    let out = "";
    const decoder = new TextDecoder();
    const terminal = new Bun.Terminal({
      data: (_t, d) => {
        out += decoder.decode(d);
      },
    });
    const ICANON = 0x2;
    const ECHO = 0x8;
    try {
      expect(terminal.localFlags & (ICANON | ECHO)).toBe(ICANON | ECHO);
      const p = Bun.spawn([process.execPath, MAIN, "vm", "console", VM, "--url", `http://${base()}`], {
        terminal,
        env: { ...process.env, BERTH_TOKEN: tokens.alice },
      });
      await waitFor(() => out.includes("escape character is ^]"), 10_000, "the CLI attached");
      await waitFor(() => (terminal.localFlags & (ICANON | ECHO)) === 0, 5_000, "raw mode");
      terminal.write(`echo T-$((2*8))-${id}\r`);
      await waitFor(() => out.includes(`T-16-${id}`), 30_000, "the answer at the terminal");
      terminal.write(new Uint8Array([0x1d]));
      expect(await p.exited).toBe(0);
      // Observed after exit only (Bun's runtime also resets the tty at exit; the CLI restores it before).
      expect(terminal.localFlags & (ICANON | ECHO)).toBe(ICANON | ECHO);
    } finally {
      terminal.close();
    }
    await waitFor(() => core.hv.consoles.sessions().length === 0, 5_000, "the session to end with the CLI");
  }, 120_000);

  test("the session ends when the VM stops, and the console of a stopped VM is 409", async () => {
    const c = await open("alice");
    await ask(c, `echo S-$((1+1))`, "S-2");
    await ok(call("alice", "POST", `/v1/vms/${VM}/stop?wait=true`));
    const ended = await Promise.race([c.closed, Bun.sleep(30_000).then(() => null)]);
    expect(ended).not.toBeNull();
    expect(ended?.code).toBe(1000);
    expect(core.hv.consoles.sessions()).toEqual([]);
    const again = await handshake(`/v1/vms/${VM}/console`, { authorization: `Bearer ${tokens.alice}` });
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body).error.message).toContain("is not running");
  }, 120_000);

  test("berth stops with a console attached: the session ends (1000, berth is shutting down) and the stop completes", async () => {
    // Stopped by the test before (or still running when this test runs alone).
    const vm = (await ok(call("alice", "GET", `/v1/vms/${VM}`))).body;
    if (vm.status !== "running") {
      const log = `${core.config.data_dir}/console/${vm.id}.log`;
      const boots = () => consoleReports(log).filter((l) => l === "listening 8080").length;
      const before = boots();
      await ok(call("alice", "POST", `/v1/vms/${VM}/start?wait=true`));
      await waitFor(() => boots() > before, 120_000, "the guest's shell after the restart");
    }
    const c = await open("alice");
    await ask(c, `echo B-$((8+1))`, "B-9");
    const started = Date.now();
    const stop = berth.stop().then(() => Date.now() - started);
    stopped = true;
    const ended = await Promise.race([c.closed, Bun.sleep(20_000).then(() => null)]);
    expect(ended).toEqual({ code: 1000, reason: "berth is shutting down" });
    const ms = await Promise.race([stop, Bun.sleep(20_000).then(() => -1)]);
    expect(ms).toBeGreaterThanOrEqual(0);
  }, 180_000);
});
