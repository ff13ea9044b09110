// /v1/vms: create, list, show, change and delete VMs.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { createVm, deleteVmOp, getVm, updateVmSettings } from "../../core/vms/index.ts";
import { listVmsAnswer } from "../../core/vms/list-responses.ts";
import { defineVmFromXml } from "../../core/vms/xml-define.ts";
import { callerOf } from "../auth.ts";
import { documented } from "../documented.ts";
import { accepted } from "./accepted.ts";
import { OperationSchema, WaitQuery } from "./schemas.ts";
import { nextLink, VmListQuerySchema } from "./vm-list-query.ts";
import { CreateVmSchema, UpdateVmSchema, VmName, VmSchema } from "./vm-schemas.ts";
import { DefineVmXmlSchema, XML_POLICY } from "./vm-xml.ts";

const tags = ["vms"];
const ByName = t.Object({ name: VmName });

export function vmRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/vms" })
    .get(
      "",
      async ({ request, query }) => {
        const page = await listVmsAnswer(core, callerOf({ request }), query);
        const headers: Record<string, string> = { "content-type": "application/json;charset=utf-8" };
        if (page.next !== null) headers.link = nextLink(request.url, page.next);
        return new Response(page.bytes, { headers });
      },
      {
        query: VmListQuerySchema,
        detail: {
          summary:
            "List VMs (filters: state, tag, name, project, pool, owner — exact matches; pages: limit, after)",
          description:
            "The VMs the caller sees: admins all; a user their own (and the others' public view with [auth] public_reads), only in their projects when [[auth.users]] projects limits them. " +
            "`recursion=0` answers the VMs' URLs (`/v1/vms/<name>`, as Incus does), `recursion=1` (the default) whole objects. " +
            'Sorted by name; with `limit`, a `Link: <…&after=<last name>>; rel="next"` header names the next page while one follows (`after` need not name an existing VM). ' +
            "`owner` from a non-admin matches only the VMs they see whole. States come from libvirt's lifecycle events, not a call per request.",
          responses: {
            200: documented(
              "whole VMs (recursion=1, the default), or their URLs (recursion=0)",
              t.Union([t.Array(VmSchema), t.Array(t.String())]),
            ),
          },
          tags,
        },
      },
    )
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
