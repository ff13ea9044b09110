// /v1/profiles: named VM recipes (image, size, disks, networks, boot, keys); berth.toml may declare some.

import type { TSchema } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import { ProfileFields, ProfileSchema } from "../../config/schema.ts";
import type { Core } from "../../core/context.ts";
import {
  createProfile,
  deleteProfile,
  listProfiles,
  showProfile,
  updateProfile,
} from "../../core/profiles.ts";
import { callerOf } from "../auth.ts";

const tags = ["profiles"];
const ByName = t.Object({ name: t.String({ maxLength: 63 }) });
const Origin = t.Union([t.Literal("api"), t.Literal("config")], {
  description: "config: declared in berth.toml, changed only there",
});

const ProfileView = t.Object({ name: t.String(), origin: Origin, ...ProfileFields });

const orNull = <S extends TSchema>(s: S) => t.Optional(t.Union([s, t.Null()]));

/** Every field optional; a field given replaces the profile's, null removes it. */
const PatchProfileSchema = t.Object(
  {
    image: ProfileFields.image,
    size: orNull(ProfileFields.size),
    cpus: orNull(ProfileFields.cpus),
    memory_mib: orNull(ProfileFields.memory_mib),
    root_disk_gb: orNull(ProfileFields.root_disk_gb),
    root_disk_bus: orNull(ProfileFields.root_disk_bus),
    disks: orNull(ProfileFields.disks),
    networks: orNull(ProfileFields.networks),
    boot: orNull(ProfileFields.boot),
    ssh_keys: orNull(ProfileFields.ssh_keys),
    user_data: orNull(ProfileFields.user_data),
  },
  { additionalProperties: false },
);

export function profileRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/profiles" })
    .get("", ({ request }) => listProfiles(core, callerOf({ request })), {
      response: t.Array(ProfileView),
      detail: { summary: "List profiles", tags },
    })
    .post("", ({ request, body, status }) => status(201, createProfile(core, callerOf({ request }), body)), {
      body: ProfileSchema,
      response: { 201: ProfileView },
      detail: {
        summary: "Create a profile",
        description:
          "Every size, network and image it names must exist (404 otherwise; images must be ready and of the right kind: a disk image for image and disks, an ISO for cdroms and boot mode iso, a kernel image for boot mode kernel). cpus and memory_mib override the size's values. Extra disks cannot be named root. Each disk (and the root, root_disk_bus) may name a bus: scsi (default), virtio, sata or usb; a cdrom is never on virtio. 409 when the name exists or the config file declares it.",
        tags,
      },
    })
    .get("/:name", ({ request, params }) => showProfile(core, callerOf({ request }), params.name), {
      params: ByName,
      response: ProfileView,
      detail: { summary: "Show a profile", tags },
    })
    .patch(
      "/:name",
      ({ request, params, body }) => updateProfile(core, callerOf({ request }), params.name, body),
      {
        params: ByName,
        body: PatchProfileSchema,
        response: ProfileView,
        detail: {
          summary: "Change a profile: each field given replaces it, null removes it",
          description:
            "The result is checked like a new profile. VMs already made from it keep what they were made with. 409 for a profile the config file declares.",
          tags,
        },
      },
    )
    .delete(
      "/:name",
      ({ request, params, status }) => {
        deleteProfile(core, callerOf({ request }), params.name);
        return status(204, undefined);
      },
      {
        params: ByName,
        detail: {
          responses: { 204: { description: "deleted" } },
          summary:
            "Delete a profile (204); 409 while a VM was created from it or the config file declares it",
          tags,
        },
      },
    );
}
