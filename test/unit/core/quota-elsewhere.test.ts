// A fleet host's synchronous quota check adds what the user holds on other hosts (its picture of the etcd ledger), once per VM.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Caller } from "../../../src/core/auth/index.ts";
import { noteHeldElsewhere } from "../../../src/core/fleet/quota-cache.ts";
import { deleteVmOp } from "../../../src/core/vms/delete.ts";
import { createVm } from "../../../src/core/vms/index.ts";
import { cleanup, poolCore } from "./pools-support.ts";

const P = "qels";
let core: Awaited<ReturnType<typeof poolCore>>;
const alice: Caller = { name: "alice", admin: false, tokenId: null };

beforeAll(async () => {
  const hash = await Bun.password.hash("pw", { algorithm: "argon2id" });
  core = await poolCore(
    P,
    `[auth]\nenabled = true\nmax_vcpus_per_user = 4\n[[auth.users]]\nname = "alice"\npassword_hash = "${hash}"`,
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
const charge = (vcpus: number) => ({ vcpus, memory_mib: 64, disk_bytes: 0 });

test("vCPUs the user holds on another host count against the quota here", async () => {
  noteHeldElsewhere(core, new Map([["alice", new Map([[`${P}-on-b`, charge(3)]])]]));
  const refused = await createVm(core, alice, {
    name: `${P}-a`,
    profile: `${P}-tiny`,
    cpus: 2,
    start: false,
  }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(refused).toMatchObject({
    httpStatus: 403,
    errorCode: "quota_exceeded",
    details: { quota: "vcpus", held: 3, max: 4, requested: 2 },
  });
  // The other host's VM gone from the ledger: the same create fits.
  noteHeldElsewhere(core, new Map());
  await done(createVm(core, alice, { name: `${P}-a`, profile: `${P}-tiny`, cpus: 2, start: false }));
}, 60_000);

test("a ledger entry of a VM this host has a row for is counted once, from the row", async () => {
  // Alice's own VM here (2 vCPUs) is also in the ledger as last read: she holds 2, not 4.
  noteHeldElsewhere(core, new Map([["alice", new Map([[`${P}-a`, charge(2)]])]]));
  await done(createVm(core, alice, { name: `${P}-b`, profile: `${P}-tiny`, cpus: 2, start: false }));
  for (const n of [`${P}-a`, `${P}-b`]) await done(deleteVmOp(core, alice, n));
}, 60_000);
