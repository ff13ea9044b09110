// Sizes: named vCPU+memory shapes (1cpu256mb). VMs copy the numbers at creation, so a size never breaks a VM.
import type { Static } from "@sinclair/typebox";
import type { SizeSchema } from "../config/schema.ts";
import { profilesUsingSize } from "../db/profiles.ts";
import { deleteSizeRow, getSizeRow, insertSize, listSizeRows, type Origin } from "../db/sizes.ts";
import { BadRequest, Conflict, NotFound } from "../errors.ts";
import { type Caller, requireAdmin } from "./auth/index.ts";
import { checkShapeIfKnown } from "./capacity.ts";
import type { Core } from "./context.ts";
import { checkName } from "./names.ts";

export type SizeInput = Static<typeof SizeSchema>;

export interface SizeRecord {
  name: string;
  vcpus: number;
  memory_mib: number;
  origin: Origin;
}

/** The ranges the schema states, checked again for callers that bypass it (the config file, core users). */
export function checkSize(s: SizeInput): SizeInput {
  checkName("size", s.name);
  if (!Number.isInteger(s.vcpus) || s.vcpus < 1 || s.vcpus > 256) {
    throw new BadRequest(`size ${s.name}: vcpus ${s.vcpus} is outside 1-256`);
  }
  if (!Number.isInteger(s.memory_mib) || s.memory_mib < 16 || s.memory_mib > 4_194_304) {
    throw new BadRequest(`size ${s.name}: memory_mib ${s.memory_mib} is outside 16-4194304`);
  }
  return s;
}

/** 409 when the config file declares `name`: those are the file's to change. */
export function refuseDeclared(core: Core, kind: "size" | "profile", name: string, origin?: Origin): void {
  const list: readonly { name: string }[] = kind === "size" ? core.config.sizes : core.config.profiles;
  if (origin === "config" || list.some((d) => d.name === name)) {
    throw new Conflict(`${kind} ${name} is declared in the config file`);
  }
}

/** The size named exactly `name`, or NotFound. */
export function findSize(core: Core, name: string): SizeRecord {
  const row = getSizeRow(core.db, name);
  if (!row) throw new NotFound(`size ${name} does not exist`);
  return row;
}

export function listSizes(core: Core): SizeRecord[] {
  return listSizeRows(core.db);
}

export function createSize(core: Core, caller: Caller | null, input: SizeInput): SizeRecord {
  requireAdmin(core, caller, "create sizes");
  const s = checkSize(input);
  checkShapeIfKnown(core, s, `size ${s.name}`);
  refuseDeclared(core, "size", s.name);
  if (getSizeRow(core.db, s.name)) throw new Conflict(`size ${s.name} already exists`);
  const row: SizeRecord = { name: s.name, vcpus: s.vcpus, memory_mib: s.memory_mib, origin: "api" };
  insertSize(core.db, row);
  core.events.publish("size.created", `size/${s.name}`, { vcpus: s.vcpus, memory_mib: s.memory_mib });
  return row;
}

/** Refused for a size the config file declares or a profile uses; VMs never depend on it. */
export function deleteSize(core: Core, caller: Caller | null, name: string): void {
  requireAdmin(core, caller, "delete sizes");
  const row = findSize(core, name);
  refuseDeclared(core, "size", name, row.origin);
  const profiles = profilesUsingSize(core.db, name);
  if (profiles.length > 0) throw new Conflict(`size ${name} is used by profile ${profiles.join(", ")}`);
  deleteSizeRow(core.db, name);
  core.events.publish("size.deleted", `size/${name}`);
}
