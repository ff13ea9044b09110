// The log's default sinks write a turn's lines as one chunk: in order, and none lost when the process exits.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const LOG = new URL("../../src/log.ts", import.meta.url).pathname;

/** Runs `body` in a child Bun with `log` imported; answers its stderr and exit code. */
function child(body: string): { stderr: string; code: number | null } {
  const r = Bun.spawnSync(["bun", "-e", `import { log, setLogFile } from ${JSON.stringify(LOG)};\n${body}`], {
    stdout: "pipe",
    stderr: "pipe",
  });
  return { stderr: r.stderr.toString(), code: r.exitCode };
}

const msgs = (text: string) =>
  text
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => (JSON.parse(l) as { msg: string }).msg);

test("lines of one turn reach stderr in order, also when the process exits in that turn", () => {
  const r = child(`for (let i = 0; i < 500; i++) log.info("line " + i);\nprocess.exit(3);`);
  expect(r.code).toBe(3);
  expect(msgs(r.stderr)).toEqual(Array.from({ length: 500 }, (_, i) => `line ${i}`));
});

test("lines across turns keep their order, and a log file gets them before a switch back to stderr", () => {
  const path = join(mkdtempSync(join(tmpdir(), "berth-logb-")), "berth.log");
  const r = child(
    `log.info("a"); await Bun.sleep(1); log.info("b");
setLogFile(${JSON.stringify(path)}); log.info("c"); log.info("d"); setLogFile(""); log.info("e");
await Bun.sleep(1); log.info("f");`,
  );
  expect(r.code).toBe(0);
  expect(msgs(r.stderr)).toEqual(["a", "b", "e", "f"]);
  expect(msgs(readFileSync(path, "utf8"))).toEqual(["c", "d"]);
});
