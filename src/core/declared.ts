// Sizes and profiles declared in berth.toml: the file is the source of truth for them, applied at start.
import type { Config } from "../config/schema.ts";
import {
  deleteProfileRow,
  getProfileRow,
  listProfileRows,
  profilesUsingSize,
  setProfileOrigin,
  upsertProfile,
  vmsUsingProfile,
} from "../db/profiles.ts";
import { deleteSizeRow, getSizeRow, listSizeRows, setSizeOrigin, upsertSize } from "../db/sizes.ts";
import { ConfigError } from "../errors.ts";
import { log } from "../log.ts";
import type { Core } from "./context.ts";
import { checkProfileRefs, profileProblems } from "./profile-check.ts";
import { cleanSpec } from "./profiles.ts";

export interface SyncReport {
  sizes: { applied: string[]; removed: string[]; kept: string[] };
  profiles: { applied: string[]; removed: string[]; kept: string[] };
}

/** What the schema cannot catch in the declared entries (duplicate names, profile rules); pure. */
export function declaredProblems(config: Config): string[] {
  const p: string[] = [];
  const dupes = (kind: string, names: string[]) => {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) p.push(`${kind}: ${n} is declared twice`);
      seen.add(n);
    }
  };
  dupes(
    "sizes",
    config.sizes.map((s) => s.name),
  );
  dupes(
    "profiles",
    config.profiles.map((s) => s.name),
  );
  config.profiles.forEach((prof, i) => {
    const { name: _, ...spec } = prof;
    for (const problem of profileProblems(cleanSpec(spec)))
      p.push(`profiles.${i} (${prof.name}): ${problem}`);
  });
  return p;
}

/**
 * Makes the database match the file: declared entries are created or overwritten (origin "config");
 * config entries the file dropped are removed, or, while something still uses them, kept and handed
 * to the API (origin "api") with a warning. A broken declaration stops berth with ConfigError.
 */
interface DeclaredTable {
  rows(): { name: string }[];
  /** What still uses the entry (VMs of a profile, profiles of a size). */
  users(name: string): string[];
  handOver(name: string): void;
  remove(name: string): void;
}

/** Config-origin entries the file no longer declares: removed, or handed to the API while still used. */
function dropUndeclared(
  kind: "size" | "profile",
  declared: Set<string>,
  report: SyncReport["sizes"],
  table: DeclaredTable,
): void {
  for (const row of table.rows()) {
    if (declared.has(row.name)) continue;
    const users = table.users(row.name);
    if (users.length > 0) {
      table.handOver(row.name);
      report.kept.push(row.name);
      log.warn(`${kind} no longer declared but still used: kept, now managed by the API`, {
        [kind]: row.name,
        users,
      });
    } else {
      table.remove(row.name);
      report.removed.push(row.name);
    }
  }
}

export function syncDeclared(core: Core): SyncReport {
  const { config, db } = core;
  const problems = declaredProblems(config);
  if (problems.length > 0) {
    throw new ConfigError(`invalid declared sizes or profiles:\n  ${problems.join("\n  ")}`, problems);
  }
  const report: SyncReport = {
    sizes: { applied: [], removed: [], kept: [] },
    profiles: { applied: [], removed: [], kept: [] },
  };
  const sizeNames = new Set(config.sizes.map((s) => s.name));
  const profileNames = new Set(config.profiles.map((p) => p.name));

  db.transaction(() => {
    for (const s of config.sizes) {
      if (getSizeRow(db, s.name)?.origin === "api")
        log.warn("the config file takes over size", { size: s.name });
      upsertSize(db, { name: s.name, vcpus: s.vcpus, memory_mib: s.memory_mib, origin: "config" });
      report.sizes.applied.push(s.name);
    }
    for (const { name, ...rest } of config.profiles) {
      if (getProfileRow(db, name)?.origin === "api")
        log.warn("the config file takes over profile", { profile: name });
      upsertProfile(db, { name, spec: JSON.stringify(cleanSpec(rest)), origin: "config" });
      report.profiles.applied.push(name);
    }
    // Profiles first: a dropped size may only be in use by a dropped profile.
    dropUndeclared("profile", profileNames, report.profiles, {
      rows: () => listProfileRows(db, "config"),
      users: (name) => vmsUsingProfile(db, name),
      handOver: (name) => setProfileOrigin(db, name, "api"),
      remove: (name) => deleteProfileRow(db, name),
    });
    dropUndeclared("size", sizeNames, report.sizes, {
      rows: () => listSizeRows(db, "config"),
      users: (name) => profilesUsingSize(db, name),
      handOver: (name) => setSizeOrigin(db, name, "api"),
      remove: (name) => deleteSizeRow(db, name),
    });
  })();

  // References may be created later through the API (a network, an image): warn, do not refuse to start.
  for (const { name, ...rest } of config.profiles) {
    try {
      checkProfileRefs(core, cleanSpec(rest));
    } catch (e) {
      log.warn("declared profile refers to something missing", {
        profile: name,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
  if (
    report.sizes.applied.length + report.profiles.applied.length > 0 ||
    report.sizes.removed.length + report.profiles.removed.length > 0
  ) {
    log.info("declared sizes and profiles applied", { ...report });
  }
  return report;
}
