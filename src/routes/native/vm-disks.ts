// /v1/vms/{name}/disks: list, add (hot-plug when running), grow, remove.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { addDisk, growDisk, listDisks, removeDisk } from "../../core/vms/index.ts";
import { callerOf } from "../auth.ts";
import { accepted } from "./accepted.ts";
import { OperationSchema, WaitQuery } from "./schemas.ts";
import { DiskRequestSchema, LabelName, VmDiskSchema, VmName } from "./vm-schemas.ts";

const tags = ["vm disks"];
const ByName = t.Object({ name: VmName });
const ByDisk = t.Object({ name: VmName, disk: LabelName });
const responses = { 200: OperationSchema, 202: OperationSchema };

export function vmDiskRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/vms/:name/disks" })
    .get("", ({ request, params }) => listDisks(core, callerOf({ request }), params.name), {
      params: ByName,
      response: t.Array(VmDiskSchema),
      detail: { summary: "A VM's disks in unit order (sda, sdb, …; vdX on virtio), each with its bus", tags },
    })
    .post(
      "",
      async ({ request, params, body, query, set }) =>
        accepted(core, await addDisk(core, callerOf({ request }), params.name, body), set, query.wait),
      {
        params: ByName,
        body: DiskRequestSchema,
        query: WaitQuery,
        response: responses,
        detail: {
          summary:
            "Add a disk: blank (size_gb), an overlay of an image, or an ISO as cdrom, on bus scsi (default), virtio, sata or usb; hot-plugged when running, except on sata (409 while running)",
          tags,
        },
      },
    )
    .patch(
      "/:disk",
      async ({ request, params, body, query, set }) =>
        accepted(
          core,
          await growDisk(core, callerOf({ request }), params.name, params.disk, body.size_gb),
          set,
          query.wait,
        ),
      {
        params: ByDisk,
        body: t.Object(
          { size_gb: t.Integer({ minimum: 1, maximum: 65536 }) },
          { additionalProperties: false },
        ),
        query: WaitQuery,
        response: responses,
        detail: {
          summary: "Grow a disk (live with block resize when running); shrinking is refused (400)",
          tags,
        },
      },
    )
    .delete(
      "/:disk",
      ({ request, params, query, set }) =>
        accepted(
          core,
          removeDisk(core, callerOf({ request }), params.name, params.disk, { force_root: query.force_root }),
          set,
          query.wait,
        ),
      {
        params: ByDisk,
        query: t.Object(
          { wait: t.Optional(t.Boolean()), force_root: t.Optional(t.Boolean()) },
          { additionalProperties: false },
        ),
        response: responses,
        detail: {
          summary: "Detach and delete a disk (the root disk only with force_root=true, else 409)",
          tags,
        },
      },
    );
}
