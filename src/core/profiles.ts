// Profiles: named VM recipes (image, size, disks, networks, boot, keys, user-data), from the API or the config file.
import {
  deleteProfileRow,
  getProfileRow,
  insertProfile,
  listProfileRows,
  type ProfileRow,
  updateProfileSpec,
  vmsUsingProfile,
} from "../db/profiles.ts";
import type { Origin } from "../db/sizes.ts";
import { Conflict, NotFound } from "../errors.ts";
import type { Core } from "./context.ts";
import { checkName } from "./names.ts";
import { checkProfileRefs, checkProfileShape, type ProfileSpec } from "./profile-check.ts";
import { refuseDeclared } from "./sizes.ts";

export type { ProfileSpec } from "./profile-check.ts";

export interface ProfileRecord {
  name: string;
  origin: Origin;
  spec: ProfileSpec;
}

/** A profile as the API shows it: the POST body's shape plus where it comes from. */
export type ProfileView = { name: string; origin: Origin } & ProfileSpec;

/** PATCH: each field given replaces the profile's; null removes it. */
export type ProfilePatch = { [K in keyof ProfileSpec]?: ProfileSpec[K] | null };

/** Drops absent and null fields, so the stored JSON holds only what the profile says. */
export function cleanSpec(spec: ProfilePatch): ProfileSpec {
  return Object.fromEntries(
    Object.entries(spec).filter(([, v]) => v !== undefined && v !== null),
  ) as ProfileSpec;
}

function toRecord(r: ProfileRow): ProfileRecord {
  return { name: r.name, origin: r.origin, spec: JSON.parse(r.spec) as ProfileSpec };
}

export function profileView(p: ProfileRecord): ProfileView {
  return { name: p.name, origin: p.origin, ...p.spec };
}

/** The profile named exactly `name`, or NotFound. */
export function findProfile(core: Core, name: string): ProfileRecord {
  const row = getProfileRow(core.db, name);
  if (!row) throw new NotFound(`profile ${name} does not exist`);
  return toRecord(row);
}

export function listProfiles(core: Core): ProfileView[] {
  return listProfileRows(core.db).map((r) => profileView(toRecord(r)));
}

export function showProfile(core: Core, name: string): ProfileView {
  return profileView(findProfile(core, name));
}

export function createProfile(core: Core, input: { name: string } & ProfilePatch): ProfileView {
  const { name, ...rest } = input;
  checkName("profile", name);
  const spec = cleanSpec(rest);
  checkProfileShape(name, spec);
  refuseDeclared(core, "profile", name);
  if (getProfileRow(core.db, name)) throw new Conflict(`profile ${name} already exists`);
  checkProfileRefs(core, spec);
  insertProfile(core.db, { name, spec: JSON.stringify(spec), origin: "api" });
  core.events.publish("profile.created", `profile/${name}`);
  return profileView({ name, origin: "api", spec });
}

export function updateProfile(core: Core, name: string, patch: ProfilePatch): ProfileView {
  const current = findProfile(core, name);
  refuseDeclared(core, "profile", name, current.origin);
  const spec = cleanSpec({ ...current.spec, ...patch });
  checkProfileShape(name, spec);
  checkProfileRefs(core, spec);
  updateProfileSpec(core.db, name, JSON.stringify(spec));
  core.events.publish("profile.updated", `profile/${name}`, { fields: Object.keys(patch) });
  return profileView({ name, origin: current.origin, spec });
}

/** Refused for a profile the config file declares or a VM was created from. */
export function deleteProfile(core: Core, name: string): void {
  const current = findProfile(core, name);
  refuseDeclared(core, "profile", name, current.origin);
  const vms = vmsUsingProfile(core.db, name);
  if (vms.length > 0) throw new Conflict(`profile ${name} is used by vm ${vms.join(", ")}`);
  deleteProfileRow(core.db, name);
  core.events.publish("profile.deleted", `profile/${name}`);
}
