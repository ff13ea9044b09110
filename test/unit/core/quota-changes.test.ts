// What grows an owned VM (a snapshot revert, a new or larger disk) stays within its owner's quotas and the host.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Caller } from "../../../src/core/auth/index.ts";
import { deleteVmOp } from "../../../src/core/vms/delete.ts";
import { addDisk, createVm, growDisk, updateVmSettings } from "../../../src/core/vms/index.ts";
import { createSnapshot, revertSnapshot } from "../../../src/core/vms/snapshots.ts";
import { cleanup, poolCore } from "./pools-support.ts";

const P = "snlim";
let core: Awaited<ReturnType<typeof poolCore>>;
const alice: Caller = { name: "alice", admin: false, tokenId: null };

beforeAll(async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  core = await poolCore(
    P,
    `[auth]\nenabled = true\nmax_vcpus_per_user = 4\nmax_disk_gb_per_user = 3\n[[auth.users]]\nname = "alice"\npassword_hash = "${hash}"`,
  );
});
afterAll(async () => {
  await cleanup(core);
  await core.close();
});

const done = async (op: Promise<{ id: string }> | { id: string }) => {
  const r = await core.ops.wait((await op).id, 30);
  if (r.status !== "succeeded") throw new Error(`${r.kind}: ${JSON.stringify(r.error)}`);
};

test("a revert that would take a user past max_vcpus_per_user is 403 and changes nothing", async () => {
  await done(createVm(core, alice, { name: `${P}-a`, profile: `${P}-tiny`, cpus: 3, start: false }));
  await done(createSnapshot(core, alice, `${P}-a`, { name: "three" }));
  await updateVmSettings(core, alice, `${P}-a`, { cpus: 1 });
  await done(createVm(core, alice, { name: `${P}-b`, profile: `${P}-tiny`, cpus: 3, start: false }));
  const refused = await revertSnapshot(core, alice, `${P}-a`, "three").then(
    () => null,
    (e: unknown) => e,
  );
  expect(refused).toMatchObject({ httpStatus: 403, errorCode: "quota_exceeded" });
  expect(core.db.query("SELECT vcpus FROM vms WHERE name = ?").get(`${P}-a`)).toEqual({ vcpus: 1 });
  // With room again (the other VM gone), the same revert goes through.
  await done(deleteVmOp(core, alice, `${P}-b`));
  await done(revertSnapshot(core, alice, `${P}-a`, "three"));
  expect(core.db.query("SELECT vcpus FROM vms WHERE name = ?").get(`${P}-a`)).toEqual({ vcpus: 3 });
}, 60_000);

test("a disk added or grown past max_disk_gb_per_user is 403 before any operation starts", async () => {
  // The VM of the test above holds its 1 GiB root disk.
  const ops = core.ops.list({ limit: 1000 }).length;
  const refusedAdd = await addDisk(core, alice, `${P}-a`, { name: "data", size_gb: 3 }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(refusedAdd).toMatchObject({
    httpStatus: 403,
    errorCode: "quota_exceeded",
    details: { quota: "disk_bytes" },
  });
  const refusedGrow = await growDisk(core, alice, `${P}-a`, "root", 4).then(
    () => null,
    (e: unknown) => e,
  );
  expect(refusedGrow).toMatchObject({ httpStatus: 403, errorCode: "quota_exceeded" });
  expect(core.ops.list({ limit: 1000 }).length).toBe(ops);
  await done(addDisk(core, alice, `${P}-a`, { name: "data", size_gb: 2 }));
});
