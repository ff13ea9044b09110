// A fuzz target: a test-driver core with one of everything (size, pool with ready VMs, a VM, a token) to aim requests at.

import { type ListenerPlan, listenerPlan } from "../../../src/config/fronts.ts";
import { SYSTEM } from "../../../src/core/auth/access.ts";
import { issueToken } from "../../../src/core/auth/index.ts";
import type { Core } from "../../../src/core/context.ts";
import { createPool } from "../../../src/core/pools/pools.ts";
import { createApp } from "../../../src/routes/app.ts";
import { fill, poolCore } from "../../unit/core/pools-support.ts";
import type { AuthMaterial } from "./fuzz-routes.ts";

export const FUZZ_USER = "fuzzadmin";
export const FUZZ_PASSWORD = "fuzz-pw";
/** A user who is not an admin: the fuzzer sends as both. */
export const FUZZ_PLAIN_USER = "fuzzuser";

export interface FuzzTarget {
  core: Core & { close(): Promise<void> };
  /** The main listener's app. */
  app: ReturnType<typeof createApp>;
  /** Every listener's plan and app, the main one first (each front that may have one gets its own). */
  listeners: { plan: ListenerPlan; app: ReturnType<typeof createApp> }[];
  /** Names the generator uses now and then, so requests reach past "not found". */
  names: string[];
  auth: AuthMaterial | null;
}

/** A core named by `prefix` on test:///default, with auth on or off, and its fixtures. */
export async function fuzzTarget(prefix: string, auth: boolean): Promise<FuzzTarget> {
  const hash = await Bun.password.hash(FUZZ_PASSWORD, {
    algorithm: "argon2id",
    memoryCost: 1024,
    timeCost: 1,
  });
  const users = auth
    ? `[auth]\nenabled = true\n[[auth.users]]\nname = "${FUZZ_USER}"\npassword_hash = "${hash}"\nadmin = true\n` +
      `[[auth.users]]\nname = "${FUZZ_PLAIN_USER}"\npassword_hash = "${hash}"\nadmin = false\n`
    : "";
  // Every own listener a front may have (nothing binds: requests go through app.handle).
  const own =
    '[staging]\nlisten = "127.0.0.1:1"\n[vmpooler]\nlisten = "127.0.0.1:2"\n[kahu]\nlisten = "127.0.0.1:3"\n[pvc]\nlisten = "127.0.0.1:4"\n' +
    '[sysadm]\nlisten_rest = "127.0.0.1:5"\nlisten_ws = "127.0.0.1:6"\n';
  const core = await poolCore(prefix, `${own}${users}`);
  const listeners = listenerPlan(core.config).map((plan) => ({ plan, app: createApp(core, plan) }));
  const app = (listeners[0] as { app: ReturnType<typeof createApp> }).app;
  const pool = `${prefix}-pool`;
  createPool(core, SYSTEM, { name: pool, profile: `${prefix}-tiny`, size: 2, alias: [`${prefix}-alias`] });
  await fill(core, pool, 2);
  const issued = auth ? issueToken(core, { name: FUZZ_USER, admin: true, tokenId: null }) : null;
  const plain = auth ? issueToken(core, { name: FUZZ_PLAIN_USER, admin: false, tokenId: null }) : null;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (issued) headers["x-auth-token"] = issued.token;
  const post = async (path: string, body: unknown) => {
    const res = await app.handle(
      new Request(`http://localhost${path}`, { method: "POST", headers, body: JSON.stringify(body) }),
    );
    if (res.status >= 300) throw new Error(`fixture ${path}: ${res.status} ${await res.text()}`);
  };
  await post("/v1/sizes", { name: `${prefix}-size`, vcpus: 1, memory_mib: 64 });
  await post("/v1/vms?wait=true", { name: `${prefix}-vm`, profile: `${prefix}-tiny` });
  const members = core.db.query("SELECT name FROM vms").all() as { name: string }[];
  const names = [
    ...members.map((m) => m.name),
    pool,
    `${prefix}-alias`,
    `${prefix}-tiny`,
    `${prefix}-size`,
    `${prefix}-store`,
    ...(issued ? [issued.id, issued.token] : []),
    "default",
    "root",
    `${pool}+${pool}`,
    "1",
  ];
  return {
    core,
    app,
    listeners,
    names,
    auth: issued
      ? { token: issued.token, user: FUZZ_USER, password: FUZZ_PASSWORD, userToken: plain?.token }
      : null,
  };
}
