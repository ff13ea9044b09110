// PVC's Ceph cluster endpoints (status, df, osd, pool and their changes): 510 without a Ceph cluster; removals first want flag_yes_i_really_mean_it (599).
import { Elysia } from "elysia";
import type { Core } from "../../core/context.ts";
import { type CephRead, changeCeph, readCeph } from "../../core/fronts/pvc-ceph.ts";
import { callerOf } from "../auth.ts";
import { UnavailableBody } from "./bodies.ts";
import { NeedsConfirmation } from "./errors.ts";
import { flag, pvcValues } from "./values.ts";

const tags = ["pvc"];
const ceph = "/storage/ceph";
const NONE = '(from berth\'s Ceph pool with [storage] backend = "rbd"; else 510)';

type Ctx = { request: Request };

/** Under `<base>/api/v1`. */
export function pvcCephRoutes(core: Core) {
  const read =
    (what: (ctx: Ctx & { params: Record<string, string> }, v: URLSearchParams) => CephRead) =>
    (ctx: Ctx & { params: Record<string, string> }) =>
      readCeph(core, callerOf(ctx), what(ctx, new URL(ctx.request.url).searchParams));
  const change = (what: string) => (ctx: Ctx) => changeCeph(core, callerOf(ctx), what);
  // PVC refused a dangerous removal without the flag before doing anything else.
  const remove = (what: string) => async (ctx: Ctx) => {
    await using v = await pvcValues(core, ctx.request);
    if (!flag(v, "flag_yes_i_really_mean_it")) throw new NeedsConfirmation();
    return changeCeph(core, callerOf(ctx), what);
  };
  const get = (summary: string) => ({
    parse: "none" as const,
    detail: {
      summary: `${summary} ${NONE}`,
      responses: { 200: UnavailableBody("a Ceph cluster answers") },
      tags,
    },
  });
  return new Elysia()
    .get(
      ceph,
      read(() => ({ kind: "status" })),
      get("Ceph status"),
    )
    .get(
      `${ceph}/status`,
      read(() => ({ kind: "status" })),
      get("Ceph status (alias)"),
    )
    .get(
      `${ceph}/df`,
      read(() => ({ kind: "df" })),
      get("Ceph utilization"),
    )
    .get(
      `${ceph}/osd`,
      read(() => ({ kind: "osds" })),
      get("Ceph OSDs (value: limit)"),
    )
    .get(
      `${ceph}/osd/:osd`,
      read(() => ({ kind: "osd" })),
      get("One Ceph OSD"),
    )
    .post(`${ceph}/osd/set`, change("set a Ceph OSD option"), get("Set an OSD option (value: option)"))
    .post(`${ceph}/osd/unset`, change("unset a Ceph OSD option"), get("Unset an OSD option (value: option)"))
    .post(
      `${ceph}/osd/:osd/add`,
      change("add a Ceph OSD"),
      get("Add an OSD on node <osd> (values: device, weight)"),
    )
    .post(
      `${ceph}/osd/:osd/remove`,
      remove("remove a Ceph OSD"),
      get("Remove an OSD (flag_yes_i_really_mean_it, else 599)"),
    )
    .post(`${ceph}/osd/:osd/in`, change("set a Ceph OSD in"), get("Set an OSD in"))
    .post(`${ceph}/osd/:osd/out`, change("set a Ceph OSD out"), get("Set an OSD out"))
    .get(
      `${ceph}/pool`,
      read((_c, v) => ({ kind: "pools", limit: v.get("limit") ?? undefined })),
      get("Ceph pools (value: limit)"),
    )
    .get(
      `${ceph}/pool/:pool`,
      read((c) => ({ kind: "pool", pool: c.params.pool as string })),
      get("One Ceph pool"),
    )
    .post(`${ceph}/pool/:pool/add`, change("add a Ceph pool"), get("Add a Ceph pool (value: pgs)"))
    .post(
      `${ceph}/pool/:pool/remove`,
      remove("remove a Ceph pool"),
      get("Remove a Ceph pool (flag_yes_i_really_mean_it, else 599)"),
    );
}
