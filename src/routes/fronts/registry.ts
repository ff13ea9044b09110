// The one list of fronts: mounting, the auth guard, the error mapping, the docs and the fuzzer all iterate it.
import { type FrontName, frontEnabled, frontOn, type ListenerPlan } from "../../config/fronts.ts";
import type { Config } from "../../config/schema.ts";
import type { AuthRules, Front } from "./front.ts";
import { kahuFront } from "./kahu.ts";
import { nativeFront } from "./native.ts";
import { pvcFront } from "./pvc.ts";
import { stagingFront } from "./staging.ts";
import { sysadmFront } from "./sysadm.ts";
import { vmpoolerFront } from "./vmpooler.ts";

/** Keyed by every name in FRONT_NAMES, so a front cannot be named without being declared. */
const BY_NAME: Record<FrontName, Front> = {
  native: nativeFront,
  staging: stagingFront,
  vmpooler: vmpoolerFront,
  kahu: kahuFront,
  pvc: pvcFront,
  sysadm: sysadmFront,
};

/** Every front, the native API first. */
export const FRONTS: readonly Front[] = Object.values(BY_NAME);

/** The declared front of that name. */
export const frontNamed = (name: FrontName): Front => BY_NAME[name];

/** The fronts the config serves ([<front>] enabled), the native API first. */
export function servedFronts(config: Config): Front[] {
  return FRONTS.filter((f) => frontEnabled(config, f.name));
}

/** The front that answers `path` on `listener`; a path none claims answers in the listener's first front's shape. */
export function frontAt(listener: ListenerPlan, path: string): Front {
  return BY_NAME[frontOn(listener, path)];
}

/** The auth tables of every front on `listener`, under its bases there, together: the guard's. */
export function authRules(config: Config, listener: ListenerPlan): AuthRules {
  const all = listener.fronts.map((p) => BY_NAME[p.front].auth(config, p.bases));
  return {
    passwordOnly: all.flatMap((r) => r.passwordOnly),
    passwordOrToken: all.flatMap((r) => r.passwordOrToken),
    optional: all.flatMap((r) => r.optional),
    tokenCookies: all.flatMap((r) => r.tokenCookies),
    tokenValues: all.flatMap((r) => r.tokenValues),
  };
}
