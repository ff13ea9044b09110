// PVC's DHCP routes of a network: leases and reservations, add and remove a reservation.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { addPvcReservation, listPvcLeases, removePvcReservation } from "../../core/fronts/pvc-dhcp.ts";
import { callerOf } from "../auth.ts";
import { LeasesBody, MessageBody } from "./bodies.ts";
import { flag, pvcValues, required } from "./values.ts";

const tags = ["pvc"];
const MacParams = t.Object({ net: t.String({ maxLength: 253 }), mac: t.String({ maxLength: 64 }) });

/** Under `<base>/api/v1`. */
export function pvcDhcpRoutes(core: Core) {
  return new Elysia()
    .get(
      "/network/:net/dhcp",
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        return await listPvcLeases(core, callerOf(ctx), ctx.params.net, {
          limit: values.get("limit"),
          staticOnly: flag(values, "flag_static"),
        });
      },
      {
        parse: "none",
        params: t.Object({ net: t.String({ maxLength: 253 }) }),
        detail: {
          summary: "Active leases (libvirt) and static reservations; limit on the MAC, flag_static",
          responses: { 200: LeasesBody },
          tags,
        },
      },
    )
    .get(
      "/network/:net/dhcp/:mac",
      async (ctx) =>
        await listPvcLeases(core, callerOf(ctx), ctx.params.net, {
          staticOnly: false,
          exact: ctx.params.mac,
        }),
      {
        params: MacParams,
        detail: {
          summary: "The leases and reservation of one MAC; [] when none",
          responses: { 200: LeasesBody },
          tags,
        },
      },
    )
    .post(
      "/network/:net/dhcp/:mac/add",
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        const ipaddress = required(values, "ipaddress", "An IP address must be specified.");
        const message = await addPvcReservation(core, callerOf(ctx), ctx.params.net, ctx.params.mac, {
          ipaddress,
          hostname: values.get("hostname"),
        });
        return { message };
      },
      {
        parse: "none",
        params: MacParams,
        detail: {
          summary: "Reserve ipaddress (and hostname) for the MAC: libvirt's dnsmasq hands it out",
          responses: { 200: MessageBody },
          tags,
        },
      },
    )
    .post(
      "/network/:net/dhcp/:mac/remove",
      async (ctx) => ({
        message: await removePvcReservation(core, callerOf(ctx), ctx.params.net, ctx.params.mac),
      }),
      {
        parse: "none",
        params: MacParams,
        detail: { summary: "Drop the MAC's reservation", responses: { 200: MessageBody }, tags },
      },
    );
}
