// The operator CLI: the compiled binary against a real berth on the test driver, over HTTP only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { type RunningBerth, startBerth } from "../../src/server.ts";
import { testConfig } from "../support/core.ts";
import { json } from "../support/http.ts";
import { WORKERS } from "../support/workers.ts";

const root = new URL("../..", import.meta.url).pathname;
const binary = join(root, "dist/berth");
const dir = mkdtempSync(join(tmpdir(), "berth-cli-"));

/** A port nobody listens on right now: the kernel picks it for a throwaway listener. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = probe.port as number;
  probe.stop(true);
  return p;
}

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
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  berth = await startBerth(testConfig(toml), WORKERS);
}, 60_000);
afterAll(async () => {
  await berth?.stop();
});

/** The environment of a plain run: no token, no URL or config from the machine's environment. */
function env(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = { ...process.env, ...extra };
  for (const k of ["BERTH_URL", "BERTH_TOKEN", "BERTH_CONFIG", "BERTH_LISTEN"])
    if (!(k in extra)) delete e[k];
  return e;
}

/** Runs the binary with stdout and stderr piped (so neither is a terminal); never sync: berth runs in this process. */
async function berthCli(args: string[], extra: Record<string, string> = { BERTH_URL: url }) {
  const p = Bun.spawn([binary, ...args], { cwd: dir, env: env(extra), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, out, err };
}

/** Runs the binary inside a pseudo-terminal (util-linux script), as a person at a terminal would. */
async function berthTty(args: string[]) {
  const line = [binary, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const p = Bun.spawn(["script", "-qec", line, "/dev/null"], {
    cwd: dir,
    env: env({ BERTH_URL: url }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { code, out };
}

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

describe("events, hash-password, completion", () => {
  test("berth events follows the stream as JSON lines", async () => {
    const proc = Bun.spawn([binary, "events", "--json", "--type", "network.created"], {
      cwd: dir,
      env: env({ BERTH_URL: url }),
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const reader = proc.stdout.getReader();
      // It says so once the stream is open; from then on no event passes unseen.
      const said = await proc.stderr.getReader().read();
      expect(new TextDecoder().decode(said.value)).toBe(`following events at ${url} (Ctrl-C stops)\n`);
      expect(
        (await berthCli(["network", "create", "cli-nat", "--mode", "nat", "--subnet", "192.168.231.0/24"]))
          .code,
      ).toBe(0);
      const { value } = await reader.read();
      const e = JSON.parse(new TextDecoder().decode(value).split("\n")[0] as string);
      expect(e).toMatchObject({ type: "network.created", target: "network/cli-nat" });
    } finally {
      proc.kill("SIGINT");
      await proc.exited;
      await berthCli(["network", "delete", "cli-nat"]);
    }
  });

  test("berth events ends with 1 and says so when the server closes the stream", async () => {
    // berth itself keeps streams open while it stops, so a server that ends the stream plays that part.
    const closing = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response("retry: 3000\n\n", { headers: { "content-type": "text/event-stream" } }),
    });
    try {
      const r = await berthCli(["events", "--url", `http://127.0.0.1:${closing.port}`]);
      expect(r.code).toBe(1);
      expect(r.err).toEndWith(
        `berth: the event stream of http://127.0.0.1:${closing.port} ended (berth stopped?)\n`,
      );
    } finally {
      closing.stop(true);
    }
  });

  test("hash-password prompts without echo at a terminal; stdin still works for scripts", async () => {
    const proc = Bun.spawn(["script", "-qec", `'${binary}' hash-password`, "/dev/null"], {
      cwd: dir,
      env: env(),
      stdin: "pipe",
      stdout: "pipe",
    });
    const reader = proc.stdout.getReader();
    let out = "";
    const until = async (s: string) => {
      while (!out.includes(s)) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
    };
    await until("Password: ");
    proc.stdin.write("s3cret-pw\r");
    await proc.stdin.flush();
    await until("Repeat password: ");
    proc.stdin.write("s3cret-pw\r");
    await proc.stdin.flush();
    await until("$argon2id$");
    await until("\n");
    expect(await proc.exited).toBe(0);
    expect(out).not.toContain("s3cret-pw");
    const hash = /\$argon2id\$\S+/.exec(out)?.[0] as string;
    expect(await Bun.password.verify("s3cret-pw", hash)).toBe(true);
    const piped = Bun.spawnSync([binary, "hash-password"], { stdin: Buffer.from("other\n"), stdout: "pipe" });
    expect(await Bun.password.verify("other", piped.stdout.toString().trim())).toBe(true);
  });

  test("bash completion completes groups, verbs and options", async () => {
    const complete = (words: string) =>
      Bun.spawnSync(
        [
          "bash",
          "-c",
          `source <('${binary}' completion bash); COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _berth; echo "\${COMPREPLY[*]}"`,
        ],
        { stdout: "pipe" },
      )
        .stdout.toString()
        .trim()
        .split(" ")
        .sort()
        .join(" ");
    expect(complete("berth v")).toBe("version vm".split(" ").sort().join(" "));
    expect(complete("berth vm sh")).toBe("show shutdown");
    expect(complete("berth vm create --no")).toBe("--no-start --no-wait");
    expect((await berthCli(["completion", "zsh"])).out).toStartWith("#compdef berth");
  });
});

describe("tokens, with auth on", () => {
  const authPort = freePort();
  const authUrl = `http://127.0.0.1:${authPort}`;
  let secured: RunningBerth;
  beforeAll(async () => {
    const hash = await Bun.password.hash("alice-pw", { algorithm: "argon2id" });
    secured = await startBerth(
      testConfig(`listen = "127.0.0.1:${authPort}"
[demo]
enabled = false
[pvc]
listen = ""
[auth]
enabled = true
[[auth.users]]
name = "alice"
password_hash = "${hash}"
`),
      WORKERS,
    );
  });
  afterAll(async () => {
    await secured?.stop();
  });

  /** The binary on the secured berth, with stdin piped in (the password, for a script). */
  async function run(args: string[], extra: Record<string, string> = {}, stdin = "") {
    const p = Bun.spawn([binary, ...args], {
      cwd: dir,
      env: env({ BERTH_URL: authUrl, ...extra }),
      stdin: Buffer.from(stdin),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
      p.exited,
    ]);
    return { code, out, err };
  }

  test("token create reads the password from stdin; the token works from BERTH_TOKEN and --token-file; revoke ends it", async () => {
    const wrong = await run(["token", "create", "--user", "alice"], {}, "nope\n");
    expect(wrong.code).toBe(1);
    expect(wrong.err).toStartWith("berth: ");
    const made = await run(["token", "create", "--user", "alice", "--json"], {}, "alice-pw\n");
    expect(made.code).toBe(0);
    const issued = JSON.parse(made.out) as { id: string; token: string };
    const without = await run(["vm", "create", "x", "--cpus", "1", "--memory", "64", "--disk", "1"]);
    expect(without.code).toBe(1);
    expect(without.err).toMatch(/^berth: .*token/im);
    const listed = await run(["token", "list"], { BERTH_TOKEN: issued.token });
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`^${issued.id} +alice `, "m"));
    const file = join(dir, "token");
    await Bun.write(file, `${issued.token}\n`);
    expect((await run(["token", "revoke", issued.id, "--token-file", file])).code).toBe(0);
    const after = await run(["token", "list", "--token-file", file]);
    expect(after.code).toBe(1);
  });
});
