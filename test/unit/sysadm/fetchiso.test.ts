// fetchiso over wss from a local HTTP server (an ISO genisoimage builds): dispatcher progress events ending in finished, then the ISO list.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SysadmClient } from "./client.ts";
import { type SysadmBerth, sysadmBerth } from "./support.ts";

let s: SysadmBerth;
let root: SysadmClient;
let server: ReturnType<typeof Bun.serve>;
let iso: Uint8Array;
let outside: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "sadiso-"));
  mkdirSync(join(dir, "tree"));
  writeFileSync(join(dir, "tree", "README"), "an installer");
  outside = join(dir, "tiny.iso");
  const made = Bun.spawnSync(["genisoimage", "-quiet", "-V", "SADISO", "-o", outside, join(dir, "tree")]);
  if (made.exitCode !== 0) throw new Error(made.stderr.toString());
  iso = new Uint8Array(await Bun.file(outside).arrayBuffer());
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(iso) });
  // Loopback URLs are private addresses: the test opens them as an admin would, in [images].
  s = await sysadmBerth("sadiso", "[images]\nallow_private_networks = true");
  root = await SysadmClient.open(s.ws, s.ca);
  await root.login("root", "root-pw");
});
afterAll(async () => {
  root?.close();
  server?.stop(true);
  await s?.berth.stop();
});

test("fetchiso queues the import, dispatcher events follow it to finished, and the ISO is listed, installed from, renamed, removed", async () => {
  expect((await root.request("events", "subscribe", ["dispatcher"], "sub")).args).toEqual({
    subscribe: "dispatcher",
  });
  const url = `http://127.0.0.1:${server.port}/isos/sadiso-1.iso`;
  expect(await root.iohyve({ action: "fetchiso", url })).toEqual({
    fetchiso: {
      command: `iohyve fetch ${url}`,
      comment: "Task Queued",
      queueid: expect.stringMatching(/^sysadm_iohyve_fetch::\{[0-9a-f-]{36}\}$/),
    },
  });
  const events = [];
  for (;;) {
    const e = await root.next((f) => f.namespace === "events" && f.name === "dispatcher");
    events.push(e);
    if ((e.args as { state: string }).state === "finished") break;
  }
  expect(events[0]).toEqual(
    expect.objectContaining({
      id: "",
      args: expect.objectContaining({
        event_system: "sysadm/iohyve",
        state: "running",
        filename: "sadiso-1.iso",
      }),
    }),
  );
  expect(events.at(-1)?.args).toEqual(
    expect.objectContaining({
      event_system: "sysadm/iohyve",
      state: "finished",
      filename: "sadiso-1.iso",
      percent_done: "100%",
      download_rate: expect.any(String),
      process_details: expect.objectContaining({
        state: "finished",
        [`return_codes/iohyve fetch ${url}`]: "0",
      }),
    }),
  );
  expect(await root.iohyve({ action: "listisos" })).toEqual({ listisos: ["sadiso-1.iso"] });
  // A socket subscribing later gets the last dispatcher event at once; unsubscribing answers in shape.
  const late = await SysadmClient.open(s.ws, s.ca);
  await late.login("root", "root-pw");
  expect((await late.request("events", "subscribe", "dispatcher")).args).toEqual({ subscribe: "dispatcher" });
  expect((await late.next((f) => f.name === "dispatcher")).args).toEqual(events.at(-1)?.args);
  expect((await late.request("events", "unsubscribe", ["dispatcher"])).args).toEqual({
    unsubscribe: "dispatcher",
  });
  late.close();
  // install boots a stopped guest from it, its disk attached; a running one is refused in band.
  const name = "sadiso-g1";
  await root.iohyve({ action: "create", name, size: "1G" });
  expect(await root.iohyve({ action: "install", name, iso: "sadiso-1.iso" })).toEqual({
    install: { name, iso: "sadiso-1.iso" },
  });
  expect(((await root.iohyve({ action: "listvms" })).listvms as Record<string, unknown>)[name]).toEqual(
    expect.objectContaining({ running: "YES" }),
  );
  expect(
    ((await root.iohyve({ action: "getprops", name })).getprops as Record<string, unknown>)[name],
  ).toEqual(expect.objectContaining({ install: "yes" }));
  expect(await root.iohyve({ action: "listdisks", name })).toEqual({ listdisks: { disk0: "1G" } });
  expect((await root.iohyve({ action: "install", name, iso: "sadiso-1.iso" })).install).toEqual({
    error: expect.any(String),
  });
  await root.iohyve({ action: "delete", name });
  expect(await root.iohyve({ action: "renameiso", source: "sadiso-1.iso", target: "sadiso-2.iso" })).toEqual({
    renameiso: { source: "sadiso-1.iso", target: "sadiso-2.iso" },
  });
  expect(await root.iohyve({ action: "listisos" })).toEqual({ listisos: ["sadiso-2.iso"] });
  expect(await root.iohyve({ action: "rmiso", target: "sadiso-2.iso" })).toEqual({
    rmiso: { target: "sadiso-2.iso" },
  });
  expect(await root.iohyve({ action: "listisos" })).toEqual({ listisos: [] });
});

test("fetchiso refuses in band what core's import refuses: a file outside import_dirs, another scheme, a non-admin", async () => {
  const refused = async (c: SysadmClient, url: string) =>
    ((await c.iohyve({ action: "fetchiso", url })).fetchiso as { error?: unknown }).error;
  expect(await refused(root, `file://${outside}`)).toEqual(expect.any(String));
  expect(await refused(root, "ftp://127.0.0.1/x.iso")).toEqual(expect.any(String));
  const alice = await SysadmClient.open(s.ws, s.ca);
  await alice.login("alice", "alice-pw");
  expect(await refused(alice, `http://127.0.0.1:${server.port}/a.iso`)).toEqual(expect.any(String));
  alice.close();
  expect(await root.iohyve({ action: "listisos" })).toEqual({ listisos: [] });
});
