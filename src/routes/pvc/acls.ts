// PVC's ACL routes of a network: list, one ACL, add and remove (nftables rules as data).
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { addPvcAcl, listPvcAcls, removePvcAcl } from "../../core/fronts/pvc-acls.ts";
import { BadRequest } from "../../errors.ts";
import { callerOf } from "../auth.ts";
import type { RequestValues } from "../request-values.ts";
import { AclsBody, MessageBody } from "./bodies.ts";
import { pvcValues } from "./values.ts";

const tags = ["pvc"];
const AclParams = t.Object({ net: t.String({ maxLength: 253 }), acl: t.String({ maxLength: 253 }) });

/** PVC answered a missing ACL value with 510, not 520. */
function needed(values: RequestValues, name: string, message: string): string {
  const v = values.get(name);
  if (v === undefined || v === "") throw new BadRequest(message);
  return v;
}

/** Under `<base>/api/v1`. */
export function pvcAclRoutes(core: Core) {
  return new Elysia()
    .get(
      "/network/:net/acl",
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        return listPvcAcls(core, callerOf(ctx), ctx.params.net, {
          limit: values.get("limit"),
          direction: values.get("direction"),
        });
      },
      {
        parse: "none",
        params: t.Object({ net: t.String({ maxLength: 253 }) }),
        detail: {
          summary: "The network's ACLs by direction and order; limit on the description, direction",
          responses: { 200: AclsBody },
          tags,
        },
      },
    )
    .get(
      "/network/:net/acl/:acl",
      (ctx) => listPvcAcls(core, callerOf(ctx), ctx.params.net, { exact: ctx.params.acl }),
      {
        params: AclParams,
        detail: {
          summary: "One ACL by description (exact); [] when none",
          responses: { 200: AclsBody },
          tags,
        },
      },
    )
    .post(
      "/network/:net/acl/:acl/add",
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        const direction = needed(values, "direction", "A direction must be specified (in or out).");
        const rule = needed(values, "rule", "A rule must be specified.");
        const message = await addPvcAcl(core, callerOf(ctx), ctx.params.net, ctx.params.acl, {
          direction,
          rule,
          order: values.get("order"),
        });
        return { message };
      },
      {
        parse: "none",
        params: AclParams,
        detail: {
          summary:
            "Add an nftables rule (direction in|out, rule, order): checked by nft with the whole table, then applied",
          responses: { 200: MessageBody },
          tags,
        },
      },
    )
    .post(
      "/network/:net/acl/:acl/remove",
      async (ctx) => ({ message: await removePvcAcl(core, callerOf(ctx), ctx.params.net, ctx.params.acl) }),
      {
        parse: "none",
        params: AclParams,
        detail: { summary: "Remove an ACL", responses: { 200: MessageBody }, tags },
      },
    );
}
