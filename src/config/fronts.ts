// Where each front is served on the main listener, and the rule that no two fronts claim the same path.
import type { Config } from "./schema.ts";

/** Every front berth has; the routes registry (src/routes/fronts/registry.ts) declares one of each. */
export const FRONT_NAMES = ["native", "staging", "vmpooler"] as const;
export type FrontName = (typeof FRONT_NAMES)[number];

type FrontConfig = Pick<Config, "staging" | "vmpooler">;

/** Whether the config serves `front` ([staging] and [vmpooler] enabled; the native API always). */
export function frontEnabled(config: FrontConfig, front: FrontName): boolean {
  return front === "native" || config[front].enabled;
}

/** The paths each front answers on the main listener: each one and everything below it. */
export function frontPaths(config: FrontConfig): Record<FrontName, readonly string[]> {
  return {
    native: ["/v1", "/healthz", "/metrics", "/docs", "/openapi.json"],
    staging: ["/hosts", "/networks"],
    // vmpooler's dashboard served its stats at the root, beside the API.
    vmpooler: [config.vmpooler.prefix, "/dashboard"],
  };
}

/** Whether `path` is `root` or below it, compared by whole segments (/api/v10 is not below /api/v1). */
export function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

/** One line per pair of served fronts whose paths overlap on the main listener; empty when none do. */
export function frontPathCollisions(config: FrontConfig): string[] {
  const claims = Object.entries(frontPaths(config))
    .filter(([front]) => frontEnabled(config, front as FrontName))
    .flatMap(([front, paths]) => paths.map((path) => ({ front, path })));
  const problems: string[] = [];
  for (const [i, a] of claims.entries()) {
    for (const b of claims.slice(i + 1)) {
      if (a.front === b.front || !(isUnder(a.path, b.path) || isUnder(b.path, a.path))) continue;
      problems.push(`${a.front} front's ${a.path} overlaps the ${b.front} front's ${b.path}`);
    }
  }
  return problems;
}
