// The operator CLI: the compiled binary against a real berth on the test driver, over HTTP only: output, exit codes, progress.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { truncateSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { type RunningBerth, startBerth } from "../../src/server.ts";
import { buildBinary, dir, freePort, runCli, runTty } from "../support/cli.ts";
import { testConfig } from "../support/core.ts";
import { json } from "../support/http.ts";
import { WORKERS } from "../support/workers.ts";

const port = freePort();
const url = `http://127.0.0.1:${port}`;
const toml = `listen = "127.0.0.1:${port}"
[demo]
enabled = false
[pvc]
listen = ""
[network]
manage_bridges = false
[storage]
pool = "cli-store"
[images]
allow_private_networks = true
[[sizes]]
name = "tiny"
vcpus = 1
memory_mib = 128
`;
let berth: RunningBerth;

beforeAll(async () => {
  buildBinary();
  berth = await startBerth(testConfig(toml), WORKERS);
}, 60_000);
afterAll(async () => {
  await berth?.stop();
});

const berthCli = (args: string[], extra: Record<string, string> = { BERTH_URL: url }) => runCli(args, extra);
const berthTty = (args: string[]) => runTty(args, { BERTH_URL: url });
const api = async (path: string) => json(await fetch(`${url}${path}`));
// biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's erase-line sequence is what is checked
const REDRAW = /\r\x1b\[K/;

describe("tables, --json, --format", () => {
  test("vm create waits, then vm list prints a table of what the API lists", async () => {
    const c = await berthCli([
      "vm",
      "create",
      "cli-web",
      "--cpus",
      "1",
      "--memory",
      "128",
      "--disk",
      "1",
      "--tag",
      "team=a",
    ]);
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/^name: +cli-web$/m);
    expect(c.out).toMatch(/^status: +running$/m);
    const list = await berthCli(["vm", "list", "--tag", "team=a"]);
    expect(list.code).toBe(0);
    const [head, ...rows] = list.out.trimEnd().split("\n");
    expect(head?.split(/\s+/)).toEqual([
      "NAME",
      "STATUS",
      "STATE",
      "VCPUS",
      "MEMORY",
      "IMAGE",
      "PROJECT",
      "CREATED",
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.split(/\s+/).slice(0, 5)).toEqual(["cli-web", "running", "running", "1", "128"]);
  });

  test("--json prints the API's answer itself; --format yaml and csv say the same", async () => {
    const fromApi = await api("/v1/vms?tag=team%3Da");
    const j = await berthCli(["vm", "list", "--tag", "team=a", "--json"]);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toEqual(fromApi);
    const y = await berthCli(["vm", "list", "--tag", "team=a", "--format", "yaml"]);
    expect(parseYaml(y.out)).toEqual(fromApi);
    const c = await berthCli(["vm", "list", "--tag", "team=a", "--format", "csv"]);
    expect(c.out.trimEnd().split("\n")).toEqual([
      "name,status,state,vcpus,memory,image,project,created",
      `cli-web,running,running,1,128 MiB,,default,${fromApi[0].created_at}`,
    ]);
    const show = await berthCli(["vm", "show", "cli-web", "--json"]);
    expect(JSON.parse(show.out)).toEqual(await api("/v1/vms/cli-web"));
  });

  test("the listen address of --config is the default URL", async () => {
    await Bun.write(join(dir, "berth.toml"), `listen = "0.0.0.0:${port}"\n`);
    const r = await berthCli(["vm", "disks", "cli-web", "--config", "berth.toml"], {});
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^root +sda +scsi +disk +qcow2 +1\.0 GiB/m);
  });

  test("--version prints the client's version and the server's", async () => {
    const r = await berthCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^berth \d+\.\d+\.\d+\nserver \d+\.\d+\.\d+ at http:\/\/127\.0\.0\.1:\d+ \(libvirt \d+\.\d+\.\d+, test:\/\/\/default\)$/m,
    );
  });
});

describe("exit codes and the API's messages", () => {
  test("not found is 3 with the API's message", async () => {
    const fromApi = await api("/v1/vms/no-such-vm");
    const r = await berthCli(["vm", "show", "no-such-vm"]);
    expect(r.code).toBe(3);
    expect(r.err.trim()).toBe(`berth: ${fromApi.error.message}`);
    expect((await berthCli(["return", "no-such-vm"])).code).toBe(3);
  });

  test("an error the API answers is 1 with its message", async () => {
    const r = await berthCli(["vm", "start", "cli-web"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^berth: .*running/);
  });

  test("usage errors are 2: unknown command, unknown or foreign option, missing argument", async () => {
    for (const args of [
      ["vm", "frob"],
      ["vm", "list", "--bogus"],
      ["vm", "show"],
      ["pool", "list", "--lifetime", "2"],
    ]) {
      const r = await berthCli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toStartWith("berth: ");
    }
  });

  test("an upload that cannot fit is refused by its declared length, before it is sent, with the API's message", async () => {
    const file = join(dir, "huge.raw");
    await Bun.write(file, "");
    truncateSync(file, 2 ** 40); // sparse: 1 TiB that takes no room
    const started = performance.now();
    const r = await berthCli(["image", "import", "cli-huge", "--file", file]);
    expect(r.code).toBe(1);
    // Only a Content-Length lets berth name the whole size; a chunked body is cut off later, at what it had read.
    expect(r.err).toMatch(
      /^berth: upload of cli-huge: 1024\.0 GiB do not fit in the [\d.]+ GiB free in the storage pool$/m,
    );
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test("--help per command: 0, its options with what they mean", async () => {
    const r = await berthCli(["vm", "create", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toStartWith("usage: berth vm create [<name>] [options]");
    expect(r.out).toMatch(/^ {2}--memory MIB +memory in MiB$/m);
  });

  test("a berth that does not answer is 1, naming the URL", async () => {
    const dead = `http://127.0.0.1:${freePort()}`;
    const r = await berthCli(["vm", "list", "--url", dead]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot reach berth at ${dead}`);
  });
});

describe("progress", () => {
  test("without a terminal: plain progress lines on stderr, no redraws", async () => {
    const r = await berthCli(["vm", "stop", "cli-web"]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^stop cli-web: 100%/m);
    expect(r.err).toMatch(/^stop cli-web: done \(\d+\.\d s\)$/m);
    expect(r.err).not.toMatch(REDRAW);
  });

  test("at a terminal: a bar redrawn in place until the VM runs", async () => {
    const r = await berthTty(["vm", "start", "cli-web"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(REDRAW);
    expect(r.out).toContain("start cli-web [########################] 100%");
    expect(r.out).toMatch(/start cli-web: done/);
  });

  test("an upload at a terminal shows bytes, total and rate", async () => {
    const file = join(dir, "disk.raw");
    await Bun.write(file, new Uint8Array(48 * 2 ** 20).fill(1));
    const r = await berthTty(["image", "import", "cli-up", "--file", file]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/upload cli-up \[[#-]+\] +\d+% [\d.]+ MiB of 48\.0 MiB {2}[\d.]+ [KMG]i?B\/s/);
    expect(r.out).toMatch(/^status: +ready/m);
  });

  test("a URL import follows the operation's progress events, with bytes and rate", async () => {
    // A slow server: the import lasts long enough for its progress events to reach the CLI.
    const chunk = new Uint8Array(2 ** 20).fill(7);
    const slow = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        new Response(
          new ReadableStream({
            async pull(c) {
              await Bun.sleep(150);
              c.enqueue(chunk);
              if (++sent === 12) c.close();
            },
          }),
          { headers: { "content-length": String(12 * chunk.length) } },
        ),
    });
    let sent = 0;
    try {
      const r = await berthCli([
        "image",
        "import",
        "cli-url",
        "--from",
        `http://127.0.0.1:${slow.port}/d.raw`,
      ]);
      expect(r.code).toBe(0);
      // The server's own progress messages (bytes so far) reach the CLI as events; the CLI adds the rate.
      expect(r.err).toMatch(/^import cli-url: \d+% image http:\S+: [\d.]+ MiB {2}[\d.]+ MiB\/s$/m);
      expect(r.err).toMatch(/^import cli-url: done/m);
      expect(r.out).toMatch(/^status: +ready/m);
    } finally {
      slow.stop(true);
    }
  }, 20_000);

  test("pool create --wait follows the fill until every VM is ready; checkout a+a and return", async () => {
    const p = await berthCli([
      "pool",
      "create",
      "clipool",
      "--size",
      "2",
      "--image",
      "cli-up",
      "--vm-size",
      "tiny",
      "--wait",
    ]);
    expect(p.code).toBe(0);
    expect(p.err).toMatch(/^fill clipool: 100% ready 2\/2/m);
    expect(p.out).toMatch(/^ready: +2$/m);
    const c = await berthCli(["checkout", "clipool+clipool", "--json"]);
    expect(c.code).toBe(0);
    const vms = JSON.parse(c.out) as { name: string; pool: string }[];
    expect(vms.map((v) => v.pool)).toEqual(["clipool", "clipool"]);
    const empty = await berthCli(["checkout", "clipool+clipool+clipool"]);
    expect(empty.code).toBe(1);
    expect(empty.err).toContain("clipool");
    const back = await berthCli(["return", vms[0]?.name as string]);
    expect(back.code).toBe(0);
    expect((await berthCli(["vm", "show", vms[0]?.name as string])).code).toBe(3);
    const status = await berthCli(["status"]);
    expect(status.out).toMatch(/^clipool +2 +\d+ +\d+ +1 /m);
  }, 30_000);
});
