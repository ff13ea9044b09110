// /v1/vms/{name}/migrate: move a VM to another host of the fleet (live when it runs), as an operation.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { migrateVm } from "../../core/fleet/migrate.ts";
import { callerOf } from "../auth.ts";
import { accepted } from "./accepted.ts";
import { OperationSchema, WaitQuery } from "./schemas.ts";
import { VmName } from "./vm-schemas.ts";

const MigrateBody = t.Object(
  {
    host: t.String({ minLength: 1, maxLength: 253, description: "the fleet host to move the VM to" }),
    live: t.Optional(
      t.Boolean({ description: "default: live when the VM runs, offline when it is stopped" }),
    ),
  },
  { additionalProperties: false },
);

export function vmMigrateRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/vms" }).post(
    "/:name/migrate",
    async ({ request, params, body, query, set }) =>
      accepted(core, await migrateVm(core, callerOf({ request }), params.name, body), set, query.wait),
    {
      params: t.Object({ name: VmName }),
      body: MigrateBody,
      query: WaitQuery,
      response: { 200: OperationSchema, 202: OperationSchema },
      detail: {
        summary:
          "Move the VM, its disks and its record to another fleet host (409 not_in_fleet on a single host; 400 for a host that is not live)",
        tags: ["vm power"],
      },
    },
  );
}
