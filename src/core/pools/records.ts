// How pools are looked up (by name or alias) and presented.
import { getPoolRow, listMembers, type PoolRow, poolsByAlias } from "../../db/pools.ts";
import type { Origin } from "../../db/sizes.ts";
import { NotFound } from "../../errors.ts";
import type { Core } from "../context.ts";
import { type FullPoolSpec, type PoolSpec, withDefaults } from "./spec.ts";

export interface PoolRecord {
  name: string;
  origin: Origin;
  generation: number;
  failures: number;
  spec: FullPoolSpec;
  created_at: string;
  updated_at: string;
}

export type PoolView = { name: string; origin: Origin } & FullPoolSpec & {
    generation: number;
    failures: number;
    counts: { pending: number; ready: number; checked_out: number; draining: number };
    created_at: string;
    updated_at: string;
  };

export function toPoolRecord(r: PoolRow): PoolRecord {
  return {
    name: r.name,
    origin: r.origin,
    generation: r.generation,
    failures: r.failures,
    spec: withDefaults(JSON.parse(r.spec) as PoolSpec),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** The pool named exactly `name`, or NotFound. */
export function findPool(core: Core, name: string): PoolRecord {
  const row = getPoolRow(core.db, name);
  if (!row) throw new NotFound(`pool ${name} does not exist`);
  return toPoolRecord(row);
}

/**
 * The pools a checkout name means: the pool of that name, else every pool that has it as an alias
 * (an alias may cover several pools, as in vmpooler); empty when neither.
 */
export function resolvePools(core: Core, nameOrAlias: string): PoolRecord[] {
  const row = getPoolRow(core.db, nameOrAlias);
  if (row) return [toPoolRecord(row)];
  return poolsByAlias(core.db, nameOrAlias).map((name) => findPool(core, name));
}

export const poolTarget = (name: string) => `pool/${name}`;

export function poolView(core: Core, p: PoolRecord): PoolView {
  const counts = { pending: 0, ready: 0, checked_out: 0, draining: 0 };
  for (const m of listMembers(core.db, p.name)) counts[m.status]++;
  return {
    name: p.name,
    origin: p.origin,
    ...p.spec,
    generation: p.generation,
    failures: p.failures,
    counts,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}
