// Pools: create, change, delete and reset pools of ready VMs; config-declared pools are the file's.
import {
  bumpGeneration,
  deletePoolRow,
  getPoolRow,
  insertPool,
  listMembers,
  listPoolRows,
  moveMember,
  updatePoolSpec,
} from "../../db/pools.ts";
import { BadRequest, Conflict } from "../../errors.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { imageRow } from "../images/records.ts";
import { checkName } from "../names.ts";
import { findNetwork } from "../networks/index.ts";
import { findProfile } from "../profiles.ts";
import { findSize } from "../sizes.ts";
import { now } from "../time.ts";
import { findPool, type PoolView, poolTarget, poolView, toPoolRecord } from "./records.ts";
import { cleanPoolSpec, type PoolInput, type PoolSpec, poolProblems, recipeOf } from "./spec.ts";

/** PATCH: each field given replaces the pool's; null removes an optional one. */
export type PoolPatch = { [K in keyof PoolSpec]?: PoolSpec[K] | null };

/** The rules beyond the schema; 400 naming each. */
export function checkPoolShape(name: string, spec: PoolSpec): void {
  const problems = poolProblems(name, spec);
  if (problems.length > 0) throw new BadRequest(problems.join("; "));
}

/** Every profile, image, size and network the pool names exists (404 otherwise). */
export function checkPoolRefs(core: Core, spec: PoolSpec): void {
  if (spec.profile !== undefined) findProfile(core, spec.profile);
  if (spec.image !== undefined) imageRow(core, spec.image);
  if (spec.vm_size !== undefined) findSize(core, spec.vm_size);
  for (const n of spec.networks ?? []) findNetwork(core, n);
}

/** An alias is never a pool's name (several pools may share one alias); 409 otherwise. */
export function checkAliases(core: Core, name: string, spec: PoolSpec): void {
  for (const a of spec.alias ?? []) {
    if (getPoolRow(core.db, a)) throw new Conflict(`alias ${a} is the name of pool ${a}`);
  }
  for (const row of listPoolRows(core.db)) {
    if (row.name !== name && toPoolRecord(row).spec.alias.includes(name)) {
      throw new Conflict(`${name} is an alias of pool ${row.name}`);
    }
  }
}

/** 409 for a pool the config file declares: those are the file's to change. */
function refuseDeclared(core: Core, name: string, origin?: string): void {
  if (origin === "config" || core.config.pools.some((p) => p.name === name)) {
    throw new Conflict(`pool ${name} is declared in the config file`);
  }
}

export function listPools(core: Core): PoolView[] {
  return listPoolRows(core.db).map((r) => poolView(core, toPoolRecord(r)));
}

export function showPool(core: Core, name: string): PoolView {
  return poolView(core, findPool(core, name));
}

export function createPool(core: Core, caller: Caller | null, input: PoolInput): PoolView {
  requireAdmin(core, caller, "create pools");
  const { name, ...rest } = input;
  checkName("pool", name);
  const spec = cleanPoolSpec(rest);
  checkPoolShape(name, spec);
  refuseDeclared(core, name);
  if (getPoolRow(core.db, name)) throw new Conflict(`pool ${name} already exists`);
  checkAliases(core, name, spec);
  checkPoolRefs(core, spec);
  const at = now();
  insertPool(core.db, {
    name,
    spec: JSON.stringify(spec),
    origin: "api",
    generation: 1,
    failures: 0,
    created_at: at,
    updated_at: at,
  });
  core.events.publish("pool.created", poolTarget(name), { size: spec.size });
  return showPool(core, name);
}

export function updatePool(core: Core, caller: Caller | null, name: string, patch: PoolPatch): PoolView {
  requireAdmin(core, caller, "change pools");
  const current = findPool(core, name);
  refuseDeclared(core, name, current.origin);
  const before = cleanPoolSpec(JSON.parse(getPoolRow(core.db, name)?.spec ?? "{}") as PoolSpec);
  const spec = cleanPoolSpec({ ...before, ...patch });
  checkPoolShape(name, spec);
  checkAliases(core, name, spec);
  checkPoolRefs(core, spec);
  const newRecipe = recipeOf(spec) !== recipeOf(before);
  updatePoolSpec(core.db, name, JSON.stringify(spec), "api", newRecipe, now());
  core.events.publish("pool.updated", poolTarget(name), { fields: Object.keys(patch), drained: newRecipe });
  return showPool(core, name);
}

/** Drains the pool's pending and ready VMs (the scheduler deletes them) and forgets it; checked-out VMs live on. */
export function deletePool(core: Core, caller: Caller | null, name: string): void {
  requireAdmin(core, caller, "delete pools");
  const current = findPool(core, name);
  refuseDeclared(core, name, current.origin);
  core.db.transaction(() => {
    for (const m of listMembers(core.db, name))
      moveMember(core.db, m.vm_name, ["pending", "ready"], "draining");
    deletePoolRow(core.db, name);
  })();
  core.events.publish("pool.deleted", poolTarget(name));
}

/** A new generation: every pending and ready VM is drained and the pool refills from scratch. */
export function resetPool(core: Core, caller: Caller | null, name: string): PoolView {
  requireAdmin(core, caller, "reset pools");
  findPool(core, name);
  bumpGeneration(core.db, name, now());
  core.events.publish("pool.reset", poolTarget(name));
  return showPool(core, name);
}
