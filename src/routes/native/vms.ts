// /v1/vms: create, list, show, change and delete VMs.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { createVm, deleteVmOp, getVm, listVmViews, updateVmSettings } from "../../core/vms/index.ts";
import { defineVmFromXml } from "../../core/vms/xml-define.ts";
import { LIBVIRT_NAME_MAX } from "../../patterns.ts";
import { callerOf } from "../auth.ts";
import { accepted } from "./accepted.ts";
import { OperationSchema, WaitQuery } from "./schemas.ts";
import { CreateVmSchema, ProjectName, UpdateVmSchema, VmName, VmSchema } from "./vm-schemas.ts";
import { DefineVmXmlSchema, XML_POLICY } from "./vm-xml.ts";

const tags = ["vms"];
const ByName = t.Object({ name: VmName });

export function vmRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/vms" })
    .get("", ({ request, query }) => listVmViews(core, callerOf({ request }), query), {
      query: t.Object(
        {
          state: t.Optional(
            t.Union(
              ["creating", "running", "stopped", "paused", "restoring", "error", "gone"].map((v) =>
                t.Literal(v),
              ),
              {
                description: "berth's status of the VM",
              },
            ),
          ),
          name: t.Optional(t.String({ maxLength: LIBVIRT_NAME_MAX })),
          tag: t.Optional(t.String({ maxLength: 330, description: "key or key=value, exact" })),
          project: t.Optional(ProjectName),
        },
        { additionalProperties: false },
      ),
      response: t.Array(VmSchema),
      detail: {
        summary: "List VMs (filters: state, tag, name, project — exact matches)",
        description:
          "The VMs the caller sees: admins all; a user their own (and the others' public view with [auth] public_reads), only in their projects when [[auth.users]] projects limits them.",
        tags,
      },
    })
    .post(
      "",
      async ({ request, body, query, set }) => {
        const op =
          "xml" in body
            ? await defineVmFromXml(core, callerOf({ request }), body)
            : await createVm(core, callerOf({ request }), body);
        return accepted(core, op, set, query.wait);
      },
      {
        body: t.Union([CreateVmSchema, DefineVmXmlSchema]),
        query: WaitQuery,
        response: { 200: OperationSchema, 202: OperationSchema },
        detail: {
          summary: "Create a VM (202 + operation; the VM exists as `creating` at once)",
          description:
            "From a profile, or an image + size (or explicit cpus/memory_mib). The root disk is a qcow2 linked clone of the image. Every reference is checked before anything is created. " +
            "`project` puts it in a project (default `default`); a user limited to projects ([[auth.users]] projects) gets 403 forbidden outside them. " +
            "Or from raw libvirt XML: `{xml, start?, tags?, description?}` defines the `<domain>` (its name must be free in berth and libvirt, its UUID too: else 409) and starts it only with `start: true`. " +
            XML_POLICY,
          tags,
        },
      },
    )
    .get("/:name", ({ request, params }) => getVm(core, callerOf({ request }), params.name), {
      params: ByName,
      response: VmSchema,
      detail: { summary: "Show a VM", tags },
    })
    .patch(
      "/:name",
      ({ request, params, body }) => updateVmSettings(core, callerOf({ request }), params.name, body),
      {
        params: ByName,
        body: UpdateVmSchema,
        response: VmSchema,
        detail: {
          summary:
            "Change tags/description anytime, move it to another project; cpus/memory_mib only while stopped (else 409)",
          tags,
        },
      },
    )
    .delete(
      "/:name",
      ({ request, params, query, set }) =>
        accepted(core, deleteVmOp(core, callerOf({ request }), params.name), set, query.wait),
      {
        params: ByName,
        query: WaitQuery,
        response: { 200: OperationSchema, 202: OperationSchema },
        detail: {
          summary:
            "Delete a VM: hard stop if running, undefine (managed save, snapshots, NVRAM), delete its own volumes",
          tags,
        },
      },
    );
}
