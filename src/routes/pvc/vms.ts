// PVC's VM routes: list, one VM, its XML, define/modify from raw XML, undefine/remove, power, and the moves.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import {
  type PvcMove,
  type PvcPower,
  pvcDefine,
  pvcDelete,
  pvcModify,
  pvcMove,
  pvcPower,
} from "../../core/fronts/pvc-vm-actions.ts";
import { pvcVmDump, pvcVmGet, pvcVmList } from "../../core/fronts/pvc-vms.ts";
import { callerOf } from "../auth.ts";
import {
  DumpBody,
  MessageBody,
  queryValues as query,
  UnavailableBody,
  VmBody,
  VmsBody,
  pvcValues as valuesBody,
} from "./bodies.ts";
import { flag, pvcValues, required } from "./values.ts";

const tags = ["pvc"];
const VmParams = t.Object({ vm: t.String({ maxLength: 253 }) });
const POWER: PvcPower[] = ["start", "restart", "shutdown", "stop"];
const MOVES: PvcMove[] = ["move", "migrate", "unmigrate"];
const FORMS = ["application/x-www-form-urlencoded", "multipart/form-data"];

/** modify's XML: the `xml` value, else the raw body (what PVC's code read). */
async function modifyXml(core: Core, request: Request): Promise<{ xml: string; restart: boolean }> {
  const media = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  await using values = await pvcValues(core, request);
  const restart = flag(values, "flag_restart");
  const given = values.get("xml");
  if (given !== undefined && given !== "") return { xml: given, restart };
  // A form's body was read as values; any other body is the XML itself.
  const raw = FORMS.includes(media) ? "" : await request.text();
  if (raw.trim() === "")
    return { xml: required(values, "xml", "A Libvirt XML document must be specified."), restart };
  return { xml: raw, restart };
}

/** Under `<base>/api/v1`. */
export function pvcVmRoutes(core: Core) {
  const app = new Elysia()
    .get(
      "/vm",
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        return await pvcVmList(core, callerOf(ctx), {
          limit: values.get("limit"),
          node: values.get("node"),
          state: values.get("state"),
        });
      },
      {
        parse: "none",
        detail: {
          summary: "The VMs; limit (PVC's fuzzy regex on name or uuid), node, state; 404 when none",
          parameters: query(["limit", "node", "state"]),
          responses: { 200: VmsBody },
          tags,
        },
      },
    )
    .get("/vm/:vm", async (ctx) => await pvcVmGet(core, callerOf(ctx), ctx.params.vm), {
      params: VmParams,
      detail: {
        summary: "One VM by name or uuid (exact); 404 VM not found.",
        responses: { 200: VmBody },
        tags,
      },
    })
    .get(
      "/vm/:vm/dump",
      async (ctx) =>
        new Response(await pvcVmDump(core, callerOf(ctx), ctx.params.vm), {
          headers: { "content-type": "application/xml; charset=utf-8" },
        }),
      {
        params: VmParams,
        detail: {
          summary: "The VM's libvirt XML (persistent definition)",
          responses: { 200: DumpBody },
          tags,
        },
      },
    )
    .post(
      "/vm/:vm/define",
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        const xml = required(values, "xml", "A Libvirt XML document must be specified.");
        const message = await pvcDefine(core, callerOf(ctx), {
          xml,
          node: values.get("node"),
          selector: values.get("selector"),
        });
        return { message };
      },
      {
        params: VmParams,
        parse: "none",
        detail: {
          summary: "Define a VM from libvirt XML (xml; node, selector); admins only; <vm> is ignored",
          requestBody: valuesBody({
            xml: t.String(),
            node: t.Optional(t.String()),
            selector: t.Optional(t.String()),
          }),
          responses: { 200: MessageBody },
          tags,
        },
      },
    )
    .post(
      "/vm/:vm/modify",
      async (ctx) => {
        const { xml, restart } = await modifyXml(core, ctx.request);
        return { message: await pvcModify(core, callerOf(ctx), ctx.params.vm, xml, restart) };
      },
      {
        params: VmParams,
        parse: "none",
        detail: {
          summary: "Replace the VM's XML (xml value or raw body; flag_restart); admins only",
          requestBody: valuesBody({ xml: t.String(), flag_restart: t.Optional(t.String()) }),
          responses: { 200: MessageBody },
          tags,
        },
      },
    )
    .post(
      "/vm/:vm/undefine",
      async (ctx) => ({ message: await pvcDelete(core, callerOf(ctx), ctx.params.vm, true) }),
      {
        params: VmParams,
        parse: "none",
        detail: {
          summary: "Stop and undefine the VM, keeping its volumes",
          responses: { 200: MessageBody },
          tags,
        },
      },
    )
    .post(
      "/vm/:vm/remove",
      async (ctx) => ({ message: await pvcDelete(core, callerOf(ctx), ctx.params.vm, false) }),
      {
        params: VmParams,
        parse: "none",
        detail: { summary: "Stop and remove the VM and its volumes", responses: { 200: MessageBody }, tags },
      },
    );
  for (const action of POWER) {
    app.post(
      `/vm/:vm/${action}`,
      async (ctx) => ({ message: await pvcPower(core, callerOf(ctx), ctx.params.vm, action) }),
      {
        params: VmParams,
        parse: "none",
        detail: { summary: `${action} the VM`, responses: { 200: MessageBody }, tags },
      },
    );
  }
  for (const action of MOVES) {
    app.post(
      `/vm/:vm/${action}`,
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        const message = await pvcMove(
          core,
          callerOf(ctx),
          ctx.params.vm,
          action,
          values.get("node"),
          flag(values, "flag_force"),
          values.get("selector"),
        );
        return { message };
      },
      {
        params: VmParams,
        parse: "none",
        detail: {
          summary: `${action}: on a fleet, berth's migration to \`node\` (waited for); on one host 510, there is no other node`,
          responses: { 200: UnavailableBody("another node takes the VM") },
          tags,
        },
      },
    );
  }
  return app;
}
