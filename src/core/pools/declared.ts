// Pools declared in berth.toml: the file is the source of truth for them, applied at start (like sizes and profiles).
import type { Config } from "../../config/schema.ts";
import {
  deletePoolRow,
  getPoolRow,
  insertPool,
  listMembers,
  listPoolRows,
  moveMember,
  updatePoolSpec,
} from "../../db/pools.ts";
import { ConfigError } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { now } from "../time.ts";
import { checkPoolRefs } from "./pools.ts";
import { cleanPoolSpec, type PoolSpec, poolProblems, recipeOf, withDefaults } from "./spec.ts";

export interface PoolSyncReport {
  applied: string[];
  removed: string[];
}

/** What the schema cannot catch in the declared pools (duplicates, alias clashes, pool rules); pure. */
export function declaredPoolProblems(config: Config): string[] {
  const p: string[] = [];
  const names = new Set<string>();
  for (const pool of config.pools) {
    if (names.has(pool.name)) p.push(`pools: ${pool.name} is declared twice`);
    names.add(pool.name);
  }
  config.pools.forEach((pool, i) => {
    const { name, ...spec } = pool;
    for (const problem of poolProblems(name, cleanPoolSpec(spec))) p.push(`pools.${i}: ${problem}`);
    // Several pools may share an alias (a checkout by it takes from any of them); a pool's name may not be one.
    for (const a of withDefaults(spec).alias) {
      if (names.has(a)) p.push(`pools.${i}: alias ${a} is the name of pool ${a}`);
    }
  });
  return p;
}

/** Makes the pools table match the file: declared pools created or overwritten, dropped ones drained and removed. */
export function syncDeclaredPools(core: Core): PoolSyncReport {
  const { config, db } = core;
  const problems = declaredPoolProblems(config);
  if (problems.length > 0) {
    throw new ConfigError(`invalid declared pools:\n  ${problems.join("\n  ")}`, problems);
  }
  const report: PoolSyncReport = { applied: [], removed: [] };
  const declared = new Set(config.pools.map((p) => p.name));
  const at = now();
  db.transaction(() => {
    for (const { name, ...rest } of config.pools) {
      const spec = cleanPoolSpec(rest);
      const row = getPoolRow(db, name);
      if (!row) {
        insertPool(db, {
          name,
          spec: JSON.stringify(spec),
          origin: "config",
          generation: 1,
          failures: 0,
          created_at: at,
          updated_at: at,
        });
      } else {
        if (row.origin === "api") log.warn("the config file takes over pool", { pool: name });
        const newRecipe = recipeOf(JSON.parse(row.spec) as PoolSpec) !== recipeOf(spec);
        updatePoolSpec(db, name, JSON.stringify(spec), "config", newRecipe, at);
      }
      report.applied.push(name);
    }
    for (const row of listPoolRows(db, "config")) {
      if (declared.has(row.name)) continue;
      for (const m of listMembers(db, row.name)) moveMember(db, m.vm_name, ["pending", "ready"], "draining");
      deletePoolRow(db, row.name);
      report.removed.push(row.name);
    }
  })();
  // References may be created later through the API (an image, a network): warn, do not refuse to start.
  for (const { name, ...rest } of config.pools) {
    try {
      checkPoolRefs(core, cleanPoolSpec(rest));
    } catch (e) {
      log.warn("declared pool refers to something missing", {
        pool: name,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
  if (report.applied.length + report.removed.length > 0) log.info("declared pools applied", { ...report });
  return report;
}
