// /v1/networks/{name}/reservations and /leases: static DHCP reservations and libvirt's active leases of a managed network (admins).
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { addDhcpHost, listDhcpHosts, listLeases, removeDhcpHost } from "../../core/networks/index.ts";
import { LIBVIRT_NAME_MAX } from "../../patterns.ts";
import { callerOf } from "../auth.ts";
import { documented } from "../documented.ts";

const tags = ["networks"];
const ByName = t.Object({ name: t.String({ maxLength: LIBVIRT_NAME_MAX }) });
/** libvirt's lease, as listLeases gives it (documentation only: the data is already right). */
const LeasesBody = documented(
  "the active leases",
  t.Array(
    t.Object({
      iface: t.String(),
      expiryTime: t.Integer({ description: "epoch seconds" }),
      type: t.String({ description: "ipv4 or ipv6" }),
      mac: t.String(),
      ipAddress: t.String(),
      prefix: t.Integer(),
      hostname: t.String(),
      clientId: t.String(),
    }),
  ),
);

const ReservationSchema = t.Object({
  network: t.String(),
  mac: t.String({ description: "lowercase, ':'-separated" }),
  ip: t.String(),
  hostname: t.Nullable(t.String()),
});

export function networkReservationRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/networks/:name" })
    .get("/reservations", ({ request, params }) => listDhcpHosts(core, callerOf({ request }), params.name), {
      params: ByName,
      response: t.Array(ReservationSchema),
      detail: { summary: "A managed network's static DHCP reservations", tags },
    })
    .post(
      "/reservations",
      async ({ request, params, body, status }) =>
        status(201, await addDhcpHost(core, callerOf({ request }), params.name, body)),
      {
        params: ByName,
        body: t.Object(
          {
            mac: t.String({ maxLength: 17 }),
            ip: t.String({ maxLength: 15, description: "a host address of the subnet, not the gateway" }),
            hostname: t.Optional(t.String({ maxLength: 63 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: ReservationSchema },
        detail: {
          summary: "Reserve an IPv4 address for a MAC: a <host> in the libvirt network, live and persistent",
          tags,
        },
      },
    )
    .delete(
      "/reservations/:mac",
      async ({ request, params, status }) => {
        await removeDhcpHost(core, callerOf({ request }), params.name, params.mac);
        return status(204, undefined);
      },
      {
        params: t.Object({
          name: t.String({ maxLength: LIBVIRT_NAME_MAX }),
          mac: t.String({ maxLength: 17 }),
        }),
        detail: { responses: { 204: { description: "removed" } }, summary: "Drop a reservation", tags },
      },
    )
    .get("/leases", ({ request, params }) => listLeases(core, callerOf({ request }), params.name), {
      params: ByName,
      detail: {
        summary: "libvirt's active DHCP leases on a managed network",
        responses: { 200: LeasesBody },
        tags,
      },
    });
}
