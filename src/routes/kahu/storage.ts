// Kahu's volumes of an instance: list, show, add (a blank volume in MiB, or one from an uploaded image) and delete.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { GUEST_IFACES, type GuestIface, kahuScope } from "../../core/fronts/kahu.ts";
import { addVolume, deleteVolume, listVolumes, showVolume } from "../../core/fronts/kahu-storage.ts";
import { callerOf } from "../auth.ts";
import { AddedVolumeBody, formBody, MessageBody, VolumeBody, VolumesBody } from "./bodies.ts";
import { flag, kahuForm, mebibytes, oneOf } from "./form.ts";
import { InstanceParams } from "./instances.ts";

const tags = ["kahu"];
const VolumeParams = t.Object({ ...InstanceParams.properties, volume: t.String({ maxLength: 253 }) });

export function kahuStorageRoutes(core: Core, api: string, scopePath: string) {
  const scopeOf = (params: { tenant?: string }) => kahuScope(api, params.tenant);
  const storage = `${scopePath}/compute/instance/:id/storage`;
  return new Elysia()
    .get(storage, async (ctx) => await listVolumes(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id), {
      params: InstanceParams,
      detail: {
        summary: "The instance's volumes by name (root, config, then added ones)",
        responses: { 200: VolumesBody },
        tags,
      },
    })
    .post(
      storage,
      async (ctx) => {
        await using form = await kahuForm(core, ctx.request, {
          required: ["name"],
          optional: ["size", "bootable", "media-type", "guest-iface"],
          uploads: ["file"],
        });
        const made = await addVolume(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id, {
          name: form.get("name") as string,
          size: mebibytes(form, "size"),
          file: form.file("file")?.path,
          bootable: flag(form, "bootable", false),
          mediaType: oneOf(form, "media-type", ["disk", "cdrom"], "disk"),
          guestIface: oneOf(form, "guest-iface", Object.keys(GUEST_IFACES) as GuestIface[], "virtio"),
        });
        ctx.set.headers.location = made.location;
        return ctx.status(201, made.body);
      },
      {
        params: InstanceParams,
        parse: "none",
        detail: {
          summary:
            "Add a volume (form: name, size in MiB or file = an uploaded qcow2, or an ISO for media-type cdrom; bootable, media-type, guest-iface virtio|scsi|ide|usb); 201 with its URI",
          requestBody: formBody(
            {
              name: t.String(),
              size: t.Optional(t.String({ description: "MiB, a positive whole number" })),
              file: t.Optional(
                t.String({ format: "binary", description: "a qcow2 image, or an ISO for cdrom" }),
              ),
              bootable: t.Optional(t.String({ description: "true or false" })),
              "media-type": t.Optional(t.Union([t.Literal("disk"), t.Literal("cdrom")])),
              "guest-iface": t.Optional(t.String({ description: "virtio, scsi, ide or usb" })),
            },
            true,
          ),
          responses: { 201: AddedVolumeBody },
          tags,
        },
      },
    )
    .get(
      `${storage}/:volume`,
      async (ctx) =>
        await showVolume(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id, ctx.params.volume),
      { params: VolumeParams, detail: { summary: "One volume", responses: { 200: VolumeBody }, tags } },
    )
    .delete(
      `${storage}/:volume`,
      async (ctx) => {
        await deleteVolume(core, callerOf(ctx), scopeOf(ctx.params), ctx.params.id, ctx.params.volume);
        return { message: "volume deleted" };
      },
      {
        params: VolumeParams,
        detail: {
          summary: "Detach and delete an added volume",
          responses: { 200: MessageBody("volume deleted") },
          tags,
        },
      },
    );
}
