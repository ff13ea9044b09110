// Many clients act on one VM at once (start, stop, suspend, resume, snapshots, delete): every request gets a
// clear answer (2xx, or 409/404 in the error shape; never a 5xx, never a hang) and berth agrees with libvirt after.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statusForState } from "../../src/core/reconcile/status.ts";
import { waitFor } from "../integration/support/daemons.ts";
import { integrationReady } from "../integration/support/env.ts";
import type { Json } from "../support/http.ts";
import { type Answer, BerthProcess, isErrorShape } from "./support/berth-process.ts";
import { inconsistencies, type LibvirtView, libvirtView, scrub } from "./support/libvirt-view.ts";
import { seededRandom } from "./support/seeded.ts";

const P = `fq${process.pid}`;
const PROFILE = `${P}-p`;
const mine = (name: string) => name.startsWith(`${P}-`);
const CLIENTS = 24;
/** Longest any one answer may take (a wait=true action included). */
const BOUND_MS = 60_000;

describe.skipIf(!integrationReady())("many clients on one VM", () => {
  const berth = new BerthProcess({ tag: P });
  let view: LibvirtView;

  beforeAll(async () => {
    view = await libvirtView();
    await berth.start();
    await berth.ok("POST", "/v1/profiles", { name: PROFILE, cpus: 1, memory_mib: 32, root_disk_gb: 1 }, 201);
  }, 60_000);

  afterAll(async () => {
    if (berth.running) {
      const vms: Json[] = (await berth.get("/v1/vms")).body ?? [];
      for (const vm of vms) await berth.api("DELETE", `/v1/vms/${vm.name}?wait=true`).catch(() => null);
      await berth.api("DELETE", `/v1/profiles/${PROFILE}`).catch(() => null);
      await berth.stop();
    }
    await scrub(view, mine, berth.storagePool);
    await view.close();
  }, 120_000);

  /** berth's view of the VM and its snapshots against libvirt's, once nothing runs on it. */
  async function agree(name: string): Promise<void> {
    await waitFor(
      async () => ((await berth.get("/v1/operations?status=running")).body as Json[]).length === 0,
      60_000,
      "operations to finish",
    );
    const vm = await berth.get(`/v1/vms/${name}`);
    const dom = (await view.domains(mine)).find((d) => d.name === name);
    if (vm.status === 404) {
      expect(dom).toBeUndefined();
      return;
    }
    expect(dom).toBeDefined();
    expect(vm.body.status).toBe(statusForState(dom?.state as never));
    const ours = ((await berth.get(`/v1/vms/${name}/snapshots`)).body as Json[]).map((s) => s.name).sort();
    const theirs = (await view.core.hv.call("snapshot.list", { name })).sort();
    expect(ours).toEqual(theirs);
  }

  test(`${CLIENTS} clients at once, interleaved, then deletes among them`, async () => {
    const rnd = seededRandom("concurrency");
    const vm = `${P}-c`;
    await berth.ok("POST", "/v1/vms?wait=true", { name: vm, profile: PROFILE }, 200);
    const answers: { what: string; r: Answer | null; error?: string }[] = [];
    const counts = new Map<string, number>();
    let snaps = 0;

    const request = (round: number, allowDelete: boolean): [string, string, unknown?] => {
      const wait = rnd.next() < 0.5 ? "?wait=true" : "";
      const x = rnd.next();
      if (allowDelete && x < 0.1) return ["DELETE", `/v1/vms/${vm}${wait}`];
      if (x < 0.25) return ["POST", `/v1/vms/${vm}/start${wait}`];
      if (x < 0.4) return ["POST", `/v1/vms/${vm}/stop${wait}`];
      if (x < 0.5) return ["POST", `/v1/vms/${vm}/suspend${wait}`];
      if (x < 0.6) return ["POST", `/v1/vms/${vm}/resume${wait}`];
      if (x < 0.72) return ["POST", `/v1/vms/${vm}/snapshots${wait}`, { name: `s${round}-${snaps++ % 3}` }];
      if (x < 0.8)
        return ["DELETE", `/v1/vms/${vm}/snapshots/s${round}-${Math.floor(rnd.next() * 3)}${wait}`];
      if (x < 0.86)
        return ["POST", `/v1/vms/${vm}/snapshots/s${round}-${Math.floor(rnd.next() * 3)}/revert${wait}`];
      if (x < 0.93) return ["PATCH", `/v1/vms/${vm}`, { tags: { round: String(round) } }];
      return ["GET", `/v1/vms/${vm}`];
    };

    // Each client sends its requests one after another with short random pauses, so checks and actions
    // of different clients interleave at every point; the last phase adds deletes.
    const phases = [
      { requests: 10, deletes: false },
      { requests: 10, deletes: false },
      { requests: 5, deletes: true },
    ];
    for (const [round, phase] of phases.entries()) {
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          for (let i = 0; i < phase.requests; i++) {
            await Bun.sleep(Math.floor(rnd.next() * 150));
            const [method, path, body] = request(round, phase.deletes);
            const what = `${method} ${path}`;
            const r = await berth.api(method, path, body, BOUND_MS).catch((e) => {
              answers.push({ what, r: null, error: String(e) });
              return null;
            });
            if (!r) continue;
            answers.push({ what, r });
            const key = `${method} ${path
              .replace(/\?.*/, "")
              .replace(vm, "VM")
              .replace(/s\d-\d/, "SNAP")} ${r.status}`;
            counts.set(key, (counts.get(key) ?? 0) + 1);
          }
        }),
      );
      await agree(vm);
    }
    console.log(
      [...counts.entries()]
        .sort()
        .map(([k, n]) => `${k}: ${n}`)
        .join("\n"),
    );

    const clear = (a: (typeof answers)[number]) =>
      a.r !== null &&
      (a.r.status < 300 || ((a.r.status === 409 || a.r.status === 404) && isErrorShape(a.r.body)));
    const show = (a: (typeof answers)[number]) =>
      `${a.what} → ${a.r ? `${a.r.status} ${JSON.stringify(a.r.body).slice(0, 300)}` : a.error}`;
    expect(answers.filter((a) => !clear(a)).map(show)).toEqual([]);
    expect(answers.length).toBe(25 * CLIENTS);
    // The clients did get things done, not only refusals.
    const done = answers.filter((a) => a.r && a.r.status < 300 && a.what.startsWith("POST"));
    expect(done.length).toBeGreaterThanOrEqual(5);

    // Whatever won, the VM is entirely there or entirely gone.
    await agree(vm);
    expect(await inconsistencies(berth, view, mine)).toEqual({
      orphanDomains: [],
      orphanVolumes: [],
      rowsWithoutDomain: [],
      creating: [],
    });
  }, 240_000);

  test(`${CLIENTS} clients create one name at once, then delete it at once: one wins each time`, async () => {
    const name = `${P}-same`;
    const creates = await Promise.all(
      Array.from({ length: CLIENTS }, () =>
        berth.api("POST", "/v1/vms?wait=true", { name, profile: PROFILE }, BOUND_MS),
      ),
    );
    const created = creates.filter((r) => r.status === 200);
    const refused = creates.filter((r) => r.status === 409 && isErrorShape(r.body));
    expect({ created: created.length, refused: refused.length }).toEqual({
      created: 1,
      refused: CLIENTS - 1,
    });
    await agree(name);

    const deletes = await Promise.all(
      Array.from({ length: CLIENTS }, () =>
        berth.api("DELETE", `/v1/vms/${name}?wait=true`, undefined, BOUND_MS),
      ),
    );
    const deleted = deletes.filter((r) => r.status === 200);
    const other = deletes.filter(
      (r) => r.status !== 200 && !([404, 409].includes(r.status) && isErrorShape(r.body)),
    );
    expect(other.map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    expect(deleted.length).toBe(1);
    expect((await berth.get(`/v1/vms/${name}`)).status).toBe(404);
    await agree(name);
    expect(await inconsistencies(berth, view, mine)).toEqual({
      orphanDomains: [],
      orphanVolumes: [],
      rowsWithoutDomain: [],
      creating: [],
    });
  }, 120_000);
});
