// /v1/vms/{name}/snapshots: list, take (with RAM when running), show, revert and delete snapshots.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import {
  createSnapshot,
  deleteSnapshotOp,
  getSnapshot,
  listSnapshots,
  revertSnapshot,
} from "../../core/vms/snapshots.ts";
import { callerOf } from "../auth.ts";
import { accepted } from "./accepted.ts";
import { optionalJson } from "./parse.ts";
import { OperationSchema, WaitQuery } from "./schemas.ts";
import { LabelName, VmName } from "./vm-schemas.ts";

const tags = ["vm snapshots"];
const ByName = t.Object({ name: VmName });
const BySnap = t.Object({ name: VmName, snap: LabelName });
const responses = { 200: OperationSchema, 202: OperationSchema };

export const SnapshotSchema = t.Object({
  name: t.String(),
  description: t.String(),
  state: t.String({ description: "the VM's libvirt state when it was taken: running, paused, shutoff, …" }),
  memory_state: t.Boolean({ description: "true when it holds the guest's RAM (taken while running)" }),
  created_at: t.String(),
  vcpus: t.Integer(),
  memory_mib: t.Integer(),
  disks: t.Array(
    t.Object({ name: t.String(), target: t.String(), size: t.Integer({ description: "bytes" }) }),
  ),
  networks: t.Array(t.Object({ network: t.String(), mac: t.String() })),
});

const CreateSnapshotBody = t.Optional(
  t.Object(
    {
      name: t.Optional(LabelName),
      description: t.Optional(t.String({ maxLength: 4096 })),
    },
    { additionalProperties: false },
  ),
);

export function vmSnapshotRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/vms/:name/snapshots" })
    .get("", ({ request, params }) => listSnapshots(core, callerOf({ request }), params.name), {
      params: ByName,
      response: t.Array(SnapshotSchema),
      detail: { summary: "A VM's snapshots, newest first", tags },
    })
    .post(
      "",
      async ({ request, params, body, query, set }) =>
        accepted(
          core,
          await createSnapshot(core, callerOf({ request }), params.name, body ?? {}),
          set,
          query.wait,
        ),
      {
        params: ByName,
        parse: optionalJson,
        body: CreateSnapshotBody,
        query: WaitQuery,
        response: responses,
        detail: {
          summary: "Take a snapshot (name generated when absent; 409 if taken); with RAM when running",
          description:
            "A libvirt internal snapshot inside each qcow2 disk (a linked clone's overlay, never its image), plus the guest's memory when the VM runs or is paused, so a revert resumes it where it was. cdroms are left out. A VM with a raw disk cannot hold one: 409.",
          tags,
        },
      },
    )
    .get(
      "/:snap",
      ({ request, params }) => getSnapshot(core, callerOf({ request }), params.name, params.snap),
      {
        params: BySnap,
        response: SnapshotSchema,
        detail: { summary: "Show a snapshot: when, the VM's state, and its config at that time", tags },
      },
    )
    .post(
      "/:snap/revert",
      async ({ request, params, query, set }) =>
        accepted(
          core,
          await revertSnapshot(core, callerOf({ request }), params.name, params.snap),
          set,
          query.wait,
        ),
      {
        params: BySnap,
        query: WaitQuery,
        response: responses,
        detail: {
          summary: "Revert the VM to a snapshot (its result is the VM afterwards)",
          description:
            "Disks, definition and (if it was taken running) the running guest come back; vcpus, memory and disk sizes are recorded as they were then. 409 when disks or NICs were added or removed since. On RBD disks: only while the VM is stopped (409 otherwise); the disks come back (content and size), vcpus and memory stay.",
          tags,
        },
      },
    )
    .delete(
      "/:snap",
      ({ request, params, query, set }) =>
        accepted(
          core,
          deleteSnapshotOp(core, callerOf({ request }), params.name, params.snap),
          set,
          query.wait,
        ),
      {
        params: BySnap,
        query: WaitQuery,
        response: responses,
        detail: { summary: "Delete a snapshot (the VM stays as it is)", tags },
      },
    );
}
