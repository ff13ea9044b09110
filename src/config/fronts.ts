// Where each front is served (the main listener, its own listener, under which bases) and the rule that no two fronts on one listener claim the same path.
import type { Config } from "./schema.ts";

/** Every front berth has; the routes registry (src/routes/fronts/registry.ts) declares one of each. */
export const FRONT_NAMES = ["native", "staging", "vmpooler", "kahu", "pvc", "sysadm"] as const;
export type FrontName = (typeof FRONT_NAMES)[number];

/** The fronts that may have a listener of their own ([<front>] listen). */
type OwnListenerFront = Exclude<FrontName, "native">;

type FrontConfig = Pick<Config, "listen" | "data_dir" | OwnListenerFront>;

/** Whether the config serves `front` ([<front>] enabled; the native API always). */
export function frontEnabled(config: Pick<Config, OwnListenerFront>, front: FrontName): boolean {
  return front === "native" || config[front].enabled;
}

/**
 * The paths each front's routes take below a base, and those it serves at the root whatever its
 * base (vmpooler's dashboard stats sat beside its API).
 */
const ROOTS: Record<FrontName, { below: readonly string[]; root: readonly string[] }> = {
  // "/" is the dashboard page alone (a path is under "/" only when it is "/"), "/ui" its assets.
  native: { below: ["/v1", "/healthz", "/metrics", "/docs", "/openapi.json", "/", "/ui"], root: [] },
  staging: { below: ["/hosts", "/networks"], root: [] },
  vmpooler: { below: ["/vm", "/ondemandvm", "/token", "/status", "/summary"], root: ["/dashboard"] },
  kahu: { below: ["/v0"], root: [] },
  pvc: { below: ["/api/v1"], root: [] },
  sysadm: { below: ["/sysadm"], root: [] },
};

/** One front on one listener, under one or more bases ("" is the root). */
export interface Placement {
  front: FrontName;
  bases: readonly string[];
}

/** A PEM certificate and key a listener serves TLS with. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/**
 * One address berth listens on and the fronts it serves there; `main` is [listen]'s. `tls`: https/wss
 * with that pair; `socket`: the front whose WebSocket protocol this listener speaks (sysadm's listen_ws).
 */
export interface ListenerPlan {
  address: string;
  main: boolean;
  fronts: readonly Placement[];
  tls?: TlsFiles;
  socket?: FrontName;
}

/** The TLS pair of sysadm's listeners: the configured one, else the one berth makes in data_dir/sysadm. */
export function sysadmTlsFiles(config: Pick<Config, "data_dir" | "sysadm">): TlsFiles {
  const { cert_file, key_file } = config.sysadm;
  if (cert_file !== "" && key_file !== "") return { certFile: cert_file, keyFile: key_file };
  return {
    certFile: `${config.data_dir}/sysadm/server.crt`,
    keyFile: `${config.data_dir}/sysadm/server.key`,
  };
}

/** The address of a front's own HTTP listener ([<front>] listen; sysadm's REST one), "" for none. */
function ownAddress(config: FrontConfig, front: OwnListenerFront): string {
  return front === "sysadm" ? config.sysadm.listen_rest : config[front].listen;
}

/**
 * Where a front sits on the main listener: the native API and the staging agent at the root, vmpooler
 * and Kahu under their prefixes; PVC not at all (its /api/v1 is vmpooler's).
 */
function mainBases(config: FrontConfig, front: FrontName): string[] {
  if (front === "vmpooler" || front === "kahu") return [config[front].prefix];
  return front === "pvc" ? [] : [""];
}

/** Where a front sits on its own listener: under its prefix and at its real paths (vmpooler's root, as its reroute.rb did; Kahu's /v0). */
function ownBases(config: FrontConfig, front: OwnListenerFront): string[] {
  if (front === "vmpooler" || front === "kahu") return [...new Set([config[front].prefix, ""])];
  return [""];
}

/** Per placement (a plan is built once): every request asks which front holds its path. */
const claimed = new WeakMap<Placement, string[]>();

/** The paths a front claims under `bases`: a non-empty base whole, the root by its routes' first segments. */
export function claimedPaths(placement: Placement): string[] {
  const known = claimed.get(placement);
  if (known) return known;
  const { below, root } = ROOTS[placement.front];
  const under = placement.bases.flatMap((base) => (base === "" ? below : [base]));
  const paths = [...new Set([...under, ...root])];
  claimed.set(placement, paths);
  return paths;
}

/** Every listener the config asks for, the main one first; fronts whose listen names the same address share it. */
export function listenerPlan(config: FrontConfig): ListenerPlan[] {
  const byAddress = new Map<string, { main: boolean; bases: Map<FrontName, Set<string>> }>();
  const place = (address: string, front: FrontName, bases: string[]) => {
    const listener = byAddress.get(address) ?? { main: false, bases: new Map() };
    byAddress.set(address, listener);
    const set = listener.bases.get(front) ?? new Set<string>();
    for (const b of bases) set.add(b);
    listener.bases.set(front, set);
    return listener;
  };
  place(config.listen, "native", [""]).main = true;
  for (const front of FRONT_NAMES) {
    const bases = mainBases(config, front);
    if (front !== "native" && frontEnabled(config, front) && bases.length > 0)
      place(config.listen, front, bases);
  }
  for (const front of FRONT_NAMES) {
    if (front === "native" || !frontEnabled(config, front) || ownAddress(config, front) === "") continue;
    place(ownAddress(config, front), front, ownBases(config, front));
  }
  const plans: ListenerPlan[] = [...byAddress].map(([address, l]) => ({
    address,
    main: l.main,
    fronts: [...l.bases].map(([front, bases]) => ({ front, bases: [...bases] })),
  }));
  const sysadm = config.sysadm;
  if (!frontEnabled(config, "sysadm")) return plans;
  // sysadm served only wss and https: its REST listener and its WebSocket one (no HTTP routes) are TLS.
  const tls = sysadmTlsFiles(config);
  const rest = plans.find((p) => p.address === sysadm.listen_rest && !p.main);
  if (rest) rest.tls = tls;
  if (sysadm.listen_ws !== "")
    plans.push({ address: sysadm.listen_ws, main: false, fronts: [], tls, socket: "sysadm" });
  return plans;
}

/** The config key that asks for `plan`'s listener, for messages ([listen], [pvc] listen, [sysadm] listen_ws…). */
export function listenKey(plan: ListenerPlan): string {
  if (plan.main) return "listen";
  if (plan.socket) return `[${plan.socket}] listen_ws`;
  return plan.fronts
    .map((f) => (f.front === "sysadm" ? "[sysadm] listen_rest" : `[${f.front}] listen`))
    .join(", ");
}

/** The main listener's plan ([listen]). */
export function mainListener(config: FrontConfig): ListenerPlan {
  return listenerPlan(config)[0] as ListenerPlan;
}

/** The listener `front` has of its own ([<front>] listen), or null when it has none. */
export function ownListener(config: FrontConfig, front: FrontName): ListenerPlan | null {
  if (front === "native" || ownAddress(config, front) === "") return null;
  return listenerPlan(config).find((l) => l.address === ownAddress(config, front) && !l.main) ?? null;
}

/** Whether `path` is `root` or below it, compared by whole segments (/api/v10 is not below /api/v1). */
export function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

/** The front on `listener` that answers `path`; a path none claims answers in the listener's first front's shape. */
export function frontOn(listener: ListenerPlan, path: string): FrontName {
  const claim = listener.fronts.find((p) => claimedPaths(p).some((root) => isUnder(path, root)));
  return (claim ?? listener.fronts[0])?.front ?? listener.socket ?? "native";
}

/**
 * `path` without the base `front` is served under on this listener, when it lies below that base's `root`
 * (e.g. "/v0/", "/api/v1/"); null when it does not.
 */
export function pathUnderFront(
  listener: ListenerPlan,
  front: FrontName,
  root: string,
  path: string,
): string | null {
  for (const p of listener.fronts) {
    if (p.front !== front) continue;
    for (const base of p.bases) if (path.startsWith(`${base}${root}`)) return path.slice(base.length);
  }
  return null;
}

/** One line per pair of fronts whose paths overlap on one listener; empty when none do. */
export function frontPathCollisions(config: FrontConfig): string[] {
  const problems: string[] = [];
  for (const listener of listenerPlan(config)) {
    const claims = listener.fronts.flatMap((p) => claimedPaths(p).map((path) => ({ front: p.front, path })));
    for (const [i, a] of claims.entries()) {
      for (const b of claims.slice(i + 1)) {
        if (a.front === b.front || !(isUnder(a.path, b.path) || isUnder(b.path, a.path))) continue;
        problems.push(
          `${a.front} front's ${a.path} overlaps the ${b.front} front's ${b.path} on the listener ${listener.address}`,
        );
      }
    }
  }
  return problems;
}
