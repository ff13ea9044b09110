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
import { actsAsAdmin, type Caller, requireAdmin } from "./auth/index.ts";
import type { Core } from "./context.ts";
import { checkName } from "./names.ts";
import { redactUrls } from "./net/redact.ts";
import {
  checkProfileCapacity,
  checkProfileRefs,
  checkProfileShape,
  type ProfileSpec,
} from "./profile-check.ts";
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
  const { boot } = p.spec;
  // An install location may carry credentials: stored as given, shown without them.
  const shown = boot?.location === undefined ? boot : { ...boot, location: redactUrls(boot.location) };
  return { name: p.name, origin: p.origin, ...p.spec, ...(shown ? { boot: shown } : {}) };
}

/** The profile named exactly `name`, or NotFound. */
export function findProfile(core: Core, name: string): ProfileRecord {
  const row = getProfileRow(core.db, name);
  if (!row) throw new NotFound(`profile ${name} does not exist`);
  return toRecord(row);
}

/** A profile as the caller may see it: its user_data (which may carry secrets) only for admins. */
function seenBy(core: Core, caller: Caller | null, view: ProfileView): ProfileView {
  if (actsAsAdmin(core, caller)) return view;
  const { user_data: _secret, ...rest } = view;
  return rest;
}

export function listProfiles(core: Core, caller: Caller | null): ProfileView[] {
  return listProfileRows(core.db).map((r) => seenBy(core, caller, profileView(toRecord(r))));
}

export function showProfile(core: Core, caller: Caller | null, name: string): ProfileView {
  return seenBy(core, caller, profileView(findProfile(core, name)));
}

export function createProfile(
  core: Core,
  caller: Caller | null,
  input: { name: string } & ProfilePatch,
): ProfileView {
  requireAdmin(core, caller, "create profiles");
  const { name, ...rest } = input;
  checkName("profile", name);
  const spec = cleanSpec(rest);
  checkProfileShape(name, spec);
  refuseDeclared(core, "profile", name);
  if (getProfileRow(core.db, name)) throw new Conflict(`profile ${name} already exists`);
  checkProfileRefs(core, spec);
  checkProfileCapacity(core, name, spec);
  insertProfile(core.db, { name, spec: JSON.stringify(spec), origin: "api" });
  core.events.publish("profile.created", `profile/${name}`);
  return profileView({ name, origin: "api", spec });
}

export function updateProfile(
  core: Core,
  caller: Caller | null,
  name: string,
  patch: ProfilePatch,
): ProfileView {
  requireAdmin(core, caller, "change profiles");
  const current = findProfile(core, name);
  refuseDeclared(core, "profile", name, current.origin);
  const spec = cleanSpec({ ...current.spec, ...patch });
  checkProfileShape(name, spec);
  checkProfileRefs(core, spec);
  checkProfileCapacity(core, name, spec);
  updateProfileSpec(core.db, name, JSON.stringify(spec));
  core.events.publish("profile.updated", `profile/${name}`, { fields: Object.keys(patch) });
  return profileView({ name, origin: current.origin, spec });
}

/** Refused for a profile the config file declares or a VM was created from. */
export function deleteProfile(core: Core, caller: Caller | null, name: string): void {
  requireAdmin(core, caller, "delete profiles");
  const current = findProfile(core, name);
  refuseDeclared(core, "profile", name, current.origin);
  const vms = vmsUsingProfile(core.db, name);
  if (vms.length > 0) throw new Conflict(`profile ${name} is used by vm ${vms.join(", ")}`);
  deleteProfileRow(core.db, name);
  core.events.publish("profile.deleted", `profile/${name}`);
}
