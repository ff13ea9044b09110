// /v1/vms/{name}/console and the backwards tail under it: line counts, rotation, bounds, bad input.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  appendFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { tailLines } from "../../../src/core/vms/console.ts";
import { apiClient } from "../../support/api.ts";
import { testConfig, testCore } from "../../support/core.ts";

let core: Awaited<ReturnType<typeof testCore>>;
let api: ReturnType<typeof apiClient>;
let logPath: string;
let dir: string;
const VM = "ucon-a";

const numbered = (from: number, to: number, eol = "\n") =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}${eol}`).join("");

beforeAll(async () => {
  core = await testCore(testConfig(`[storage]\npool = "ucon-pool"`));
  api = apiClient(core);
  const r = await api.post("/v1/vms?wait=true", {
    name: VM,
    cpus: 1,
    memory_mib: 64,
    root_disk_gb: 1,
    start: false,
  });
  expect(r.status).toBe(200);
  logPath = join(core.config.data_dir, "console", `${r.body.result.id}.log`);
  dir = mkdtempSync("/tmp/berth-ucon-");
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("GET /v1/vms/{name}/console", () => {
  test("no log yet: no lines, and the path the log will have", async () => {
    const r = await api.get(`/v1/vms/${VM}/console`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ path: logPath, lines: [] });
  });

  test("the last 100 lines by default, oldest first, serial \\r\\n endings stripped", async () => {
    mkdirSync(dirname(logPath), { recursive: true });
    writeFileSync(logPath, numbered(1, 250, "\r\n"));
    const r = await api.get(`/v1/vms/${VM}/console`);
    expect(r.body.lines).toHaveLength(100);
    expect(r.body.lines[0]).toBe("line 151");
    expect(r.body.lines[99]).toBe("line 250");
    expect((await api.get(`/v1/vms/${VM}/console?lines=3`)).body.lines).toEqual([
      "line 248",
      "line 249",
      "line 250",
    ]);
    expect((await api.get(`/v1/vms/${VM}/console?lines=10000`)).body.lines).toHaveLength(250);
  });

  test("a line the guest is still writing counts as the last one", async () => {
    appendFileSync(logPath, "partial");
    expect((await api.get(`/v1/vms/${VM}/console?lines=2`)).body.lines).toEqual(["line 250", "partial"]);
  });

  test("the tail spans virtlogd's rotated files (<path>.0 is the newest of them)", async () => {
    writeFileSync(`${logPath}.1`, numbered(1, 10));
    writeFileSync(`${logPath}.0`, `${numbered(11, 20)}line 2`);
    writeFileSync(logPath, `1\n${numbered(22, 25)}`);
    const r = await api.get(`/v1/vms/${VM}/console?lines=8`);
    expect(r.body.lines).toEqual([
      "line 18",
      "line 19",
      "line 20",
      "line 21",
      "line 22",
      "line 23",
      "line 24",
      "line 25",
    ]);
    expect((await api.get(`/v1/vms/${VM}/console?lines=1000`)).body.lines).toHaveLength(25);
  });

  test("lines must be 1-10000, no other query field; unknown VM 404", async () => {
    for (const q of ["lines=0", "lines=10001", "lines=abc", "lines=1.5", "tail=5"]) {
      const r = await api.get(`/v1/vms/${VM}/console?${q}`);
      expect({ q, status: r.status, code: r.body.error?.code }).toEqual({
        q,
        status: 400,
        code: "invalid_request",
      });
    }
    const missing = await api.get("/v1/vms/ucon-nope/console");
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe("vm ucon-nope does not exist");
  });
});

describe("tailLines", () => {
  test("chunk boundaries anywhere give the same lines, multi-byte characters intact", async () => {
    const f = join(dir, "utf8.log");
    const text = Array.from({ length: 40 }, (_, i) => `tick ${i} — größe ✓`).join("\n");
    writeFileSync(f, `${text}\n`);
    const want = text.split("\n").slice(-7);
    for (const chunkBytes of [1, 2, 3, 7, 64, 4096]) {
      expect({ chunkBytes, lines: await tailLines(f, 7, { chunkBytes }) }).toEqual({
        chunkBytes,
        lines: want,
      });
    }
  });

  test("a huge file is read from its end only, up to the byte bound; a cut first line is dropped", async () => {
    const f = join(dir, "huge.log");
    writeFileSync(f, "");
    truncateSync(f, 100 * 1024 * 1024); // 100 MiB of one endless (sparse) line
    appendFileSync(f, "\nend 1\nend 2\n");
    const t0 = performance.now();
    expect(await tailLines(f, 2)).toEqual(["end 1", "end 2"]);
    // Asking for more than exists scans back at most maxBytes, never the whole file.
    expect(await tailLines(f, 3, { maxBytes: 1024 * 1024 })).toEqual(["end 1", "end 2"]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  test("a file rotated while it is opened is read once (same inode under two names)", async () => {
    const f = join(dir, "rot.log");
    writeFileSync(f, numbered(1, 3));
    linkSync(f, `${f}.0`);
    expect(await tailLines(f, 10)).toEqual(["line 1", "line 2", "line 3"]);
  });

  test("empty and missing files have no lines", async () => {
    const f = join(dir, "empty.log");
    writeFileSync(f, "");
    expect(await tailLines(f, 5)).toEqual([]);
    expect(await tailLines(join(dir, "missing.log"), 5)).toEqual([]);
    writeFileSync(join(dir, "blank.log"), "\n\n");
    expect(await tailLines(join(dir, "blank.log"), 5)).toEqual(["", ""]);
  });
});
