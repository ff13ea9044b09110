// /v1/networks: persistent, autostarted libvirt networks on Open vSwitch (VLAN or trunk) or NAT with DHCP.

import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import {
  createNetwork,
  deleteNetwork,
  listNetworks,
  showNetwork,
  updateNetwork,
} from "../../core/networks/index.ts";
import { LIBVIRT_NAME_MAX } from "../../patterns.ts";
import { callerOf } from "../auth.ts";

const tags = ["networks"];
const VlanTag = t.Integer({ minimum: 1, maximum: 4094 });
const ByName = t.Object({ name: t.String({ maxLength: LIBVIRT_NAME_MAX }) });

/** A libvirt-managed network's options, and any network's vni and description. */
const OptionFields = {
  forward: t.Optional(
    t.Union([t.Literal("nat"), t.Literal("route")], {
      description: "nat: nat (default) or route (routed, no address translation)",
    }),
  ),
  gateway: t.Optional(t.String({ maxLength: 15, description: "nat: the host's IPv4 address (default .1)" })),
  dhcp: t.Optional(t.Boolean({ description: "nat: serve DHCPv4 (default true)" })),
  dhcp_start: t.Optional(t.String({ maxLength: 15, description: "nat: first address of the DHCP range" })),
  dhcp_end: t.Optional(t.String({ maxLength: 15, description: "nat: last address of the DHCP range" })),
  domain: t.Optional(t.String({ maxLength: 253, description: "nat: DNS domain dnsmasq answers for" })),
  subnet6: t.Optional(t.String({ maxLength: 43, description: "nat: an IPv6 CIDR on the bridge" })),
  gateway6: t.Optional(
    t.String({ maxLength: 39, description: "nat: the host's IPv6 address (default <net>1)" }),
  ),
  vni: t.Optional(
    t.Integer({ minimum: 1, maximum: 16777215, description: "an identifier (PVC's VNI), recorded" }),
  ),
  description: t.Optional(t.String({ maxLength: 128, description: "a label without whitespace, unique" })),
};

const CreateNetworkSchema = t.Object(
  {
    name: t.String({
      maxLength: LIBVIRT_NAME_MAX,
      description:
        "a hostname-shaped name (letters, digits, '-', '_', dots); also the libvirt network's name",
    }),
    mode: t.Optional(
      t.Union([t.Literal("ovs"), t.Literal("nat")], {
        description: "ovs (default): an Open vSwitch bridge; nat: a libvirt NAT network with DHCP",
      }),
    ),
    bridge: t.Optional(
      t.String({
        maxLength: 64,
        description:
          "ovs: the OVS bridge (created if missing). nat: the Linux bridge libvirt creates (default virbr-<hash>). 1-15 of A-Z a-z 0-9 _ . -",
      }),
    ),
    vlan: t.Optional(t.Integer({ minimum: 1, maximum: 4094, description: "ovs: the access VLAN tag" })),
    trunk: t.Optional(
      t.Array(VlanTag, {
        minItems: 1,
        maxItems: 4094,
        description: "ovs: VLAN tags of a trunk port (unique)",
      }),
    ),
    subnet: t.Optional(
      t.String({ maxLength: 18, description: "nat: IPv4 CIDR, /8 to /29; gateway .1, DHCP over the rest" }),
    ),
    ...OptionFields,
  },
  { additionalProperties: false },
);

const PatchNetworkSchema = t.Object(
  {
    subnet: t.Optional(
      t.String({ maxLength: 18, description: "nat: a new IPv4 CIDR (gateway and range reset unless given)" }),
    ),
    ...OptionFields,
  },
  { additionalProperties: false },
);

const NetworkSchema = t.Object({
  name: t.String(),
  kind: t.Union([t.Literal("ovs"), t.Literal("nat")]),
  bridge: t.String(),
  vlan: t.Nullable(t.Integer()),
  trunk: t.Nullable(t.Array(t.Integer())),
  subnet: t.Nullable(t.String({ description: "normalised to the network address" })),
  created_at: t.String(),
  forward: t.Union([t.Literal("nat"), t.Literal("route")]),
  gateway: t.Nullable(t.String()),
  dhcp: t.Boolean(),
  dhcp_start: t.Nullable(t.String()),
  dhcp_end: t.Nullable(t.String()),
  domain: t.Nullable(t.String()),
  subnet6: t.Nullable(t.String()),
  gateway6: t.Nullable(t.String()),
  vni: t.Nullable(t.Integer()),
  description: t.Nullable(t.String()),
  defined: t.Boolean({ description: "false if the libvirt network vanished behind berth's back" }),
  active: t.Boolean(),
  autostart: t.Boolean(),
  persistent: t.Boolean(),
});

export function networkRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/networks" })
    .get("", ({ request }) => listNetworks(core, callerOf({ request })), {
      response: t.Array(NetworkSchema),
      detail: { summary: "List berth's networks with their libvirt state", tags },
    })
    .post(
      "",
      async ({ request, body, status }) =>
        status(201, await createNetwork(core, callerOf({ request }), body)),
      {
        body: CreateNetworkSchema,
        response: { 201: NetworkSchema },
        detail: {
          summary:
            "Create a network: {name, bridge, vlan}, {name, bridge, trunk} or {name, mode: nat, subnet}",
          description:
            "Becomes a persistent, autostarted libvirt network (never transient). An OVS bridge is created when missing (setting network.manage_bridges) with the datapath of network.ovs_datapath. Without vlan or trunk an OVS network is untagged. 409 when the name, a NAT bridge or an overlapping NAT subnet is taken, or when libvirt already has a network of that name that berth did not create. A failed step undoes the earlier ones.",
          tags,
        },
      },
    )
    .get("/:name", ({ request, params }) => showNetwork(core, callerOf({ request }), params.name), {
      params: ByName,
      response: NetworkSchema,
      detail: { summary: "Show a network with its libvirt state", tags },
    })
    .patch(
      "/:name",
      ({ request, params, body }) => updateNetwork(core, callerOf({ request }), params.name, body),
      {
        params: ByName,
        body: PatchNetworkSchema,
        response: NetworkSchema,
        detail: {
          summary:
            "Change a network's options (nat: subnet, forward, gateway, DHCP, domain, IPv6; any: vni, description)",
          description:
            "Absent fields keep their value. The libvirt network is redefined with its reservations; a running one is stopped and started again, so its guests' links drop until they are reattached.",
          tags,
        },
      },
    )
    .delete(
      "/:name",
      async ({ request, params, status }) => {
        await deleteNetwork(core, callerOf({ request }), params.name);
        return status(204, undefined);
      },
      {
        params: ByName,
        detail: {
          responses: { 204: { description: "deleted" } },
          summary: "Delete a network (204); 409 while a VM or a profile uses it",
          description:
            "Stops and undefines the libvirt network. Its OVS bridge is removed only if berth created it, no other berth network is on it and it has no ports left.",
          tags,
        },
      },
    );
}
