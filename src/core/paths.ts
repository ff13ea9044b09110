// Where berth keeps files on the host, derived from the config.
import { join } from "node:path";
import type { Config } from "../config/schema.ts";

export function poolDir(config: Config): string {
  return config.storage.path || join(config.data_dir, "pool");
}

export function consoleDir(config: Config): string {
  return config.vm.console_dir || join(config.data_dir, "console");
}

/** Downloads and uploads land here first, then move into the pool whole (same filesystem). */
export function stagingDir(config: Config): string {
  return join(config.data_dir, "staging");
}
