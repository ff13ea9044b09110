// The one list of fronts: mounting, the auth guard, the error mapping, the docs and the fuzzer all iterate it.
import { type FrontName, frontEnabled, isUnder } from "../../config/fronts.ts";
import type { Config } from "../../config/schema.ts";
import type { AuthRules, Front } from "./front.ts";
import { nativeFront } from "./native.ts";
import { stagingFront } from "./staging.ts";
import { vmpoolerFront } from "./vmpooler.ts";

/** Keyed by every name in FRONT_NAMES, so a front cannot be named without being declared. */
const BY_NAME: Record<FrontName, Front> = {
  native: nativeFront,
  staging: stagingFront,
  vmpooler: vmpoolerFront,
};

/** Every front, the native API first. */
export const FRONTS: readonly Front[] = Object.values(BY_NAME);

/** The fronts the config serves ([<front>] enabled), the native API first; only these are mounted. */
export function servedFronts(config: Config): Front[] {
  return FRONTS.filter((f) => frontEnabled(config, f.name));
}

/** The served front that answers `path` on the main listener; a path none claims answers natively. */
export function frontAt(config: Config, path: string): Front {
  return servedFronts(config).find((f) => f.paths(config).some((root) => isUnder(path, root))) ?? nativeFront;
}

/** Every served front's auth tables, together: the guard's. */
export function authRules(config: Config): AuthRules {
  const all = servedFronts(config).map((f) => f.auth(config));
  return {
    passwordOnly: all.flatMap((r) => r.passwordOnly),
    passwordOrToken: all.flatMap((r) => r.passwordOrToken),
    optional: all.flatMap((r) => r.optional),
  };
}
