// SIGHUP: re-reads the config file and applies what can change without a restart (log level, declared sizes and profiles).
import { loadConfig } from "./config/load.ts";
import type { Core } from "./core/context.ts";
import { syncDeclared } from "./core/declared.ts";
import { type Level, log, logLevel, setLogLevel } from "./log.ts";

const VERBOSITY: Level[] = ["debug", "info", "warn", "error"];
const moreVerbose = (a: Level, b: Level): Level => (VERBOSITY.indexOf(a) <= VERBOSITY.indexOf(b) ? a : b);

/**
 * Applies the file at `path` to the running `core`; a file that does not load or whose declared
 * entries are invalid changes nothing (logged, the running config kept): a reload never stops berth.
 */
export async function reloadConfig(core: Core, path: string | undefined): Promise<boolean> {
  try {
    const next = await loadConfig({ path });
    // The sync checks the declared entries before writing anything, in one transaction.
    const report = syncDeclared({ ...core, config: next });
    const before = logLevel();
    // Routes read the declared lists (which names the file owns) from core.config.
    core.config = { ...core.config, sizes: next.sizes, profiles: next.profiles, log_level: next.log_level };
    // The line is written under the more verbose of the two levels: a change of level is itself told.
    setLogLevel(moreVerbose(before, next.log_level));
    log.info("config reloaded", {
      log_level: before === next.log_level ? next.log_level : `${before} -> ${next.log_level}`,
      sizes: report.sizes,
      profiles: report.profiles,
    });
    setLogLevel(next.log_level);
    return true;
  } catch (e) {
    log.error("config reload failed: the running config is kept", {
      error: e instanceof Error ? e.message : String(e),
    });
    return false;
  }
}
