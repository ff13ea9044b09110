// /v1/vms/{name}/recover: start a dead fleet host's VM on this host from its RBD disks (admins only), as an operation.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { recoverVm } from "../../core/fleet/recover.ts";
import { callerOf } from "../auth.ts";
import { accepted } from "./accepted.ts";
import { OperationSchema, WaitQuery } from "./schemas.ts";
import { VmName } from "./vm-schemas.ts";

const RecoverBody = t.Object(
  {
    host: t.String({
      minLength: 1,
      maxLength: 253,
      description: "the live fleet host to start the VM on (any host forwards the request there)",
    }),
  },
  { additionalProperties: false },
);

export function vmRecoverRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/vms" }).post(
    "/:name/recover",
    async ({ request, params, body, query, set }) =>
      accepted(core, await recoverVm(core, callerOf({ request }), params.name, body), set, query.wait),
    {
      params: t.Object({ name: VmName }),
      body: RecoverBody,
      query: WaitQuery,
      response: { 200: OperationSchema, 202: OperationSchema },
      detail: {
        summary:
          "Start a dead host's VM on a live host from its RBD disks, after fencing the dead host at Ceph (admins; 409 while its host is live, for non-RBD disks, or without room)",
        tags: ["vm power"],
      },
    },
  );
}
