// PVC's network routes: list, one network, add, modify, remove (values from the query and forms).
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { removePvcNetwork } from "../../core/fronts/pvc-network-remove.ts";
import {
  addPvcNetwork,
  listPvcNetworks,
  modifyPvcNetwork,
  type PvcNetworkValues,
  showPvcNetwork,
} from "../../core/fronts/pvc-networks.ts";
import { callerOf } from "../auth.ts";
import type { RequestValues } from "../request-values.ts";
import { MessageBody, NetworksBody } from "./bodies.ts";
import { MissingValue } from "./errors.ts";
import { flag, pvcValues, required } from "./values.ts";

const tags = ["pvc"];
export const NetParams = t.Object({ net: t.String({ maxLength: 253 }) });

function networkValues(values: RequestValues): PvcNetworkValues {
  const get = (k: string) => values.get(k);
  return {
    vni: get("vni"),
    nettype: get("nettype"),
    domain: get("domain"),
    ip4_network: get("ip4_network"),
    ip4_gateway: get("ip4_gateway"),
    ip6_network: get("ip6_network"),
    ip6_gateway: get("ip6_gateway"),
    flag_dhcp4: flag(values, "flag_dhcp4"),
    dhcp4_start: get("dhcp4_start"),
    dhcp4_end: get("dhcp4_end"),
  };
}

/** Under `<base>/api/v1`. */
export function pvcNetworkRoutes(core: Core) {
  return new Elysia()
    .get(
      "/network",
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        return listPvcNetworks(core, callerOf(ctx), values.get("limit"));
      },
      {
        parse: "none",
        detail: {
          summary: "The networks; limit (PVC's fuzzy regex on vni or description)",
          responses: { 200: NetworksBody },
          tags,
        },
      },
    )
    .get("/network/:net", (ctx) => showPvcNetwork(core, callerOf(ctx), ctx.params.net), {
      params: NetParams,
      detail: {
        summary: "One network by vni or description (exact); [] when none",
        responses: { 200: NetworksBody },
        tags,
      },
    })
    .post(
      "/network/:net/add",
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        const v = networkValues(values);
        const vni = required(values, "vni", "A VNI must be specified.");
        const nettype = required(values, "nettype", "A network type must be specified.");
        if (nettype !== "bridged" && nettype !== "managed") {
          throw new MissingValue(`Network type "${nettype}" is not valid: use "bridged" or "managed".`);
        }
        return { message: await addPvcNetwork(core, callerOf(ctx), ctx.params.net, { ...v, vni, nettype }) };
      },
      {
        parse: "none",
        params: NetParams,
        detail: {
          summary:
            "Add a network with this description: vni, nettype (bridged: an OVS VLAN on [pvc] bridge; managed: a routed libvirt network with DHCP/DNS by dnsmasq)",
          responses: { 200: MessageBody },
          tags,
        },
      },
    )
    .post(
      "/network/:net/modify",
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        return {
          message: await modifyPvcNetwork(core, callerOf(ctx), ctx.params.net, networkValues(values)),
        };
      },
      {
        parse: "none",
        params: NetParams,
        detail: {
          summary: "Change a managed network's options (vni and nettype stay)",
          responses: { 200: MessageBody },
          tags,
        },
      },
    )
    .post(
      "/network/:net/remove",
      async (ctx) => ({ message: await removePvcNetwork(core, callerOf(ctx), ctx.params.net) }),
      {
        parse: "none",
        params: NetParams,
        detail: {
          summary: "Remove a network, its reservations and its ACLs",
          responses: { 200: MessageBody },
          tags,
        },
      },
    );
}
