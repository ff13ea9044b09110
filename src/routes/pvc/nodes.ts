// PVC's node routes: this host as the one node, its list (limit) and one node, and the coordinator and flush actions.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { type PvcNodeAction, pvcNodeAction, pvcNodes } from "../../core/fronts/pvc-node.ts";
import { callerOf } from "../auth.ts";
import { MessageBody, NodesBody, queryValues as query, UnavailableBody } from "./bodies.ts";
import { pvcValues } from "./values.ts";

const tags = ["pvc"];
const NodeParams = t.Object({ node: t.String({ maxLength: 253 }) });
const ACTIONS: PvcNodeAction[] = ["secondary", "primary", "flush", "unflush", "ready"];

/** Under `<base>/api/v1`. */
export function pvcNodeRoutes(core: Core) {
  const app = new Elysia()
    .get(
      "/node",
      async (ctx) => {
        await using values = await pvcValues(core, ctx.request);
        return await pvcNodes(core, callerOf(ctx), { limit: values.get("limit") });
      },
      {
        parse: "none",
        detail: {
          summary: "The nodes (this host), limit: PVC's fuzzy regex on the name",
          parameters: query(["limit"]),
          responses: { 200: NodesBody },
          tags,
        },
      },
    )
    .get("/node/:node", async (ctx) => await pvcNodes(core, callerOf(ctx), { exact: ctx.params.node }), {
      params: NodeParams,
      detail: {
        summary: "One node by name ([] when it is not this host)",
        responses: { 200: NodesBody },
        tags,
      },
    });
  for (const action of ACTIONS) {
    app.post(
      `/node/:node/${action}`,
      async (ctx) => ({ message: await pvcNodeAction(core, ctx.params.node, action, callerOf(ctx)) }),
      {
        params: NodeParams,
        parse: "none",
        detail: {
          summary:
            action === "secondary" || action === "primary"
              ? `Coordinator mode ${action} (this host is the only, primary coordinator)`
              : `${action}: on a fleet (admins), ${action === "flush" ? "placement skips the node and its VMs migrate to other nodes" : "placement may use the node again"}; on one host 510, there is no other node`,
          responses: {
            200:
              action === "secondary" || action === "primary"
                ? MessageBody
                : UnavailableBody("other nodes take the VMs"),
          },
          tags,
        },
      },
    );
  }
  return app;
}
