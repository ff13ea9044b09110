// The operator CLI's sessions: following events, tokens with auth on, the password prompt, shell completion.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type RunningBerth, startBerth } from "../../src/server.ts";
import { binary, buildBinary, cliEnv, dir, freePort, runCli } from "../support/cli.ts";
import { testConfig } from "../support/core.ts";
import { WORKERS } from "../support/workers.ts";

const port = freePort();
const url = `http://127.0.0.1:${port}`;
let berth: RunningBerth;

beforeAll(async () => {
  buildBinary();
  berth = await startBerth(
    testConfig(`listen = "127.0.0.1:${port}"
[demo]
enabled = false
[pvc]
listen = ""
[network]
manage_bridges = false
`),
    WORKERS,
  );
}, 60_000);
afterAll(async () => {
  await berth?.stop();
});

const berthCli = (args: string[], extra: Record<string, string> = { BERTH_URL: url }) => runCli(args, extra);

describe("events, hash-password, completion", () => {
  test("berth events follows the stream as JSON lines", async () => {
    const proc = Bun.spawn([binary, "events", "--json", "--type", "network.created"], {
      cwd: dir,
      env: cliEnv({ BERTH_URL: url }),
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
      env: cliEnv(),
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
  const run = (args: string[], extra: Record<string, string> = {}, stdin = "") =>
    runCli(args, { BERTH_URL: authUrl, ...extra }, stdin);

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
