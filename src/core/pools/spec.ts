// A pool's definition: its defaults, the rules the schema cannot state, and the part that makes its VMs.
import type { Static } from "@sinclair/typebox";
import type { PoolSchema } from "../../config/schema.ts";

export type PoolInput = Static<typeof PoolSchema>;
export type PoolSpec = Omit<PoolInput, "name">;

/** A definition with every default filled in. */
export interface FullPoolSpec extends PoolSpec {
  ready_ttl: number;
  lifetime: number;
  max_lifetime: number;
  ready_check: string;
  ready_timeout: number;
  alias: string[];
  tier: PoolTier;
}

/** How a pool's ready VMs wait: running, paused (suspended) or saved (libvirt managed save). */
export type PoolTier = "running" | "paused" | "saved";

export const POOL_DEFAULTS = {
  ready_ttl: 60,
  lifetime: 24,
  max_lifetime: 168,
  ready_check: "running",
  ready_timeout: 15,
  tier: "running",
} as const;

export function withDefaults(spec: PoolSpec): FullPoolSpec {
  return { ...POOL_DEFAULTS, ...spec, alias: spec.alias ?? [] };
}

/** Drops absent and null fields, so the stored JSON holds only what the pool says. */
export function cleanPoolSpec(spec: Record<string, unknown>): PoolSpec {
  return Object.fromEntries(
    Object.entries(spec).filter(([, v]) => v !== undefined && v !== null),
  ) as PoolSpec;
}

export type ReadyCheck = { kind: "running" } | { kind: "ip" } | { kind: "tcp"; port: number };

export function parseReadyCheck(s: string): ReadyCheck | null {
  if (s === "running" || s === "ip") return { kind: s };
  const m = /^tcp:([0-9]{1,5})$/.exec(s);
  const port = m ? Number(m[1]) : 0;
  return port >= 1 && port <= 65_535 ? { kind: "tcp", port } : null;
}

/** What the schema cannot catch; pure. */
export function poolProblems(name: string, spec: PoolSpec): string[] {
  const p: string[] = [];
  const full = withDefaults(spec);
  if (spec.profile === undefined && (spec.image === undefined || spec.vm_size === undefined)) {
    p.push(`pool ${name}: give a profile, or an image and a vm_size`);
  }
  if (spec.profile !== undefined && (spec.image !== undefined || spec.vm_size !== undefined)) {
    p.push(`pool ${name}: a profile, or an image and a vm_size, not both`);
  }
  if (full.lifetime > full.max_lifetime) {
    p.push(`pool ${name}: lifetime ${full.lifetime} h is beyond max_lifetime ${full.max_lifetime} h`);
  }
  if (parseReadyCheck(full.ready_check) === null) {
    p.push(`pool ${name}: ready_check ${JSON.stringify(full.ready_check)} is not running, ip or tcp:1-65535`);
  }
  if (full.alias.includes(name)) p.push(`pool ${name}: an alias cannot be the pool's own name`);
  if (new Set(full.alias).size !== full.alias.length) p.push(`pool ${name}: an alias is listed twice`);
  return p;
}

/** The fields that decide what a pool VM is made of (and how it waits): a change starts a new generation. */
export function recipeOf(spec: PoolSpec): string {
  return JSON.stringify([
    spec.profile ?? null,
    spec.image ?? null,
    spec.vm_size ?? null,
    spec.networks ?? null,
    spec.tier ?? "running",
  ]);
}
