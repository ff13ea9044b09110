// SIGHUP: re-reads the config file and applies what can change without a restart (log level and file, declared sizes, profiles and pools, users).
import { closeSync } from "node:fs";
import { loadConfig } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import { checkAuthConfig, usersOf } from "./core/auth/index.ts";
import { announceRevoked, deleteTokensOfGoneUsers, usersChange } from "./core/auth/user-changes.ts";
import type { Core } from "./core/context.ts";
import { declaredProblems, syncDeclared } from "./core/declared.ts";
import { declaredPoolProblems, syncDeclaredPools } from "./core/pools/declared.ts";
import { poolTarget } from "./core/pools/records.ts";
import { listPoolRows } from "./db/pools.ts";
import { ConfigError } from "./errors.ts";
import { type Level, log, logFile, logLevel, openLogFile, setLogFile, setLogLevel } from "./log.ts";

const VERBOSITY: Level[] = ["debug", "info", "warn", "error"];
const moreVerbose = (a: Level, b: Level): Level => (VERBOSITY.indexOf(a) <= VERBOSITY.indexOf(b) ? a : b);

/** The [auth] keys a reload applies; the others (enabled, quotas, …) wait for a restart. */
const AUTH_RELOADED = ["users", "users_file"] as const;
/** The top-level keys a reload applies. */
const RELOADED = ["sizes", "profiles", "pools", "log_level", "log"] as const;

/** The running config with what the file may change on a reload taken from `file`; pure. */
export function reloadable(running: Config, file: Config): Config {
  return {
    ...running,
    ...Object.fromEntries(RELOADED.map((k) => [k, file[k]])),
    auth: { ...running.auth, ...Object.fromEntries(AUTH_RELOADED.map((k) => [k, file.auth[k]])) },
  } as Config;
}

/** Settings that differ in the file but only take effect at the next start; pure. */
export function needsRestart(running: Config, file: Config): string[] {
  const merged = reloadable(running, file);
  const keys = Object.keys(file) as (keyof Config)[];
  const out: string[] = [];
  for (const k of keys) {
    if (k === "auth") {
      for (const a of Object.keys(file.auth) as (keyof Config["auth"])[]) {
        if (JSON.stringify(merged.auth[a]) !== JSON.stringify(file.auth[a])) out.push(`auth.${a}`);
      }
    } else if (JSON.stringify(merged[k]) !== JSON.stringify(file[k])) out.push(k);
  }
  return out;
}

/**
 * Applies the file at `path` to the running `core`. Everything is checked first (the file, the users
 * file, declared entries, the log file's opening); then the database changes in one transaction: a
 * reload that fails changes nothing (logged, the running config kept) and never stops berth.
 * Tokens stay valid, and a user's new role or projects hold from their next request; a removed user's
 * tokens are revoked (and those of users dropped while berth was stopped).
 */
export async function reloadConfig(core: Core, path: string | undefined): Promise<boolean> {
  let fd: number | null = null;
  try {
    const file = await loadConfig({ path });
    const next = reloadable(core.config, file);
    const users = usersChange(usersOf(core.config), usersOf(next));
    checkAuthConfig(next);
    const problems = [...declaredProblems(next), ...declaredPoolProblems(next)];
    if (problems.length > 0) {
      throw new ConfigError(
        `invalid declared sizes, profiles or pools:\n  ${problems.join("\n  ")}`,
        problems,
      );
    }
    // Opened before anything changes: a path that cannot be opened fails the whole reload.
    if (next.log.file) fd = openLogFile(next.log.file);
    const poolsBefore = new Map(listPoolRows(core.db).map((r) => [r.name, r.spec]));
    const ctx = { ...core, config: next };
    const applied = core.db.transaction(() => ({
      declared: syncDeclared(ctx),
      pools: syncDeclaredPools(ctx),
      revoked: deleteTokensOfGoneUsers(core, usersOf(next)),
    }))();
    core.config = next;
    announceRevoked(core, applied.revoked);
    // The scheduler wakes on pool events: new, changed and dropped pools are acted on at once.
    for (const name of applied.pools.applied) {
      const spec = listPoolRows(core.db).find((r) => r.name === name)?.spec;
      if (!poolsBefore.has(name)) core.events.publish("pool.created", poolTarget(name), { reload: true });
      else if (poolsBefore.get(name) !== spec)
        core.events.publish("pool.updated", poolTarget(name), { reload: true });
    }
    for (const name of applied.pools.removed) core.events.publish("pool.deleted", poolTarget(name));
    const fileBefore = logFile();
    // Reopened even when the path is the same: logrotate renamed the old file.
    if (next.log.file || fileBefore) setLogFile(next.log.file, fd ?? -1);
    fd = null;
    const before = logLevel();
    // The line is written under the more verbose of the two levels: a change of level is itself told.
    setLogLevel(moreVerbose(before, file.log_level));
    log.info("config reloaded", {
      log_level: before === file.log_level ? file.log_level : `${before} -> ${file.log_level}`,
      log_file:
        fileBefore === next.log.file
          ? next.log.file || "stderr"
          : `${fileBefore || "stderr"} -> ${next.log.file || "stderr"}`,
      sizes: applied.declared.sizes,
      profiles: applied.declared.profiles,
      pools: applied.pools,
      users,
      tokens_revoked: applied.revoked.length,
    });
    const later = needsRestart(core.config, file);
    if (later.length > 0)
      log.warn("changed in the config file, applied at the next restart", { keys: later });
    setLogLevel(file.log_level);
    return true;
  } catch (e) {
    if (fd !== null) closeSync(fd);
    log.error("config reload failed: the running config is kept", {
      error: e instanceof Error ? e.message : String(e),
    });
    return false;
  }
}
