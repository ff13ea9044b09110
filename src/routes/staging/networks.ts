// The staging agent's /networks: OVS networks with an access VLAN, persistent and listed even when inactive.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { createStagingNetwork, deleteStagingNetwork, getStagingNetwork } from "../../core/fronts/staging.ts";
import { stagingNameOf } from "../../core/fronts/staging-names.ts";
import { listNetworks, type NetworkView } from "../../core/networks/index.ts";
import { callerOf } from "../auth.ts";
import { CreateNetworkSchema, described, ErrorSchema, NetworkParams, NetworkSchema } from "./schemas.ts";

const tags = ["staging agent"];
const yesNo = (b: boolean) => (b ? ("yes" as const) : ("no" as const));

/** A network in the words of `virsh net-list`, which the agent passed through. */
function networkView(core: Core, n: NetworkView) {
  return {
    name: stagingNameOf(core, "network", n.name),
    state: n.active ? ("active" as const) : ("inactive" as const),
    autostart: yesNo(n.autostart),
    persistent: yesNo(n.persistent),
  };
}

export function stagingNetworkRoutes(core: Core) {
  return new Elysia()
    .get(
      "/networks",
      async ({ request }) =>
        (await listNetworks(core, callerOf({ request }))).map((n) => networkView(core, n)),
      {
        response: t.Array(NetworkSchema),
        detail: { summary: "List all networks, active or not", tags },
      },
    )
    .get(
      "/networks/:network",
      async ({ request, params }) =>
        networkView(core, await getStagingNetwork(core, callerOf({ request }), params.network)),
      {
        params: NetworkParams,
        response: { 200: NetworkSchema, 404: ErrorSchema },
        detail: { summary: "Probe for the network: 200, or 404 when it does not exist", tags },
      },
    )
    .post(
      "/networks/:network",
      async ({ request, params, body, status }) =>
        status(
          201,
          networkView(core, await createStagingNetwork(core, callerOf({ request }), params.network, body)),
        ),
      {
        params: NetworkParams,
        body: CreateNetworkSchema,
        parse: "json",
        response: { 201: NetworkSchema, 400: ErrorSchema, 409: ErrorSchema },
        detail: {
          summary: "Create an OVS network on bridge with an access VLAN (201)",
          description:
            "A persistent, autostarted libvirt network (the agent's were transient and vanished on reboot). The bridge is created when missing if network.manage_bridges is set.",
          tags,
        },
      },
    )
    .delete(
      "/networks/:network",
      async ({ request, params, status }) => {
        await deleteStagingNetwork(core, callerOf({ request }), params.network);
        return status(204, undefined);
      },
      {
        params: NetworkParams,
        detail: {
          summary: "Delete the network (204)",
          responses: described({ 204: "deleted", 404: "no such network", 409: "a host uses it" }),
          tags,
        },
      },
    );
}
