// The signed call an unflushed host makes to every other host: send back the VMs that left it.
import { Elysia, t } from "elysia";
import { Forbidden } from "../core/auth/errors.ts";
import type { Core } from "../core/context.ts";
import { returnVms } from "../core/fleet/flush.ts";
import { forwardedOf } from "./fleet-arrival.ts";

/** Mounted on the native front; nothing on a host outside a fleet. */
export function fleetFlushRoutes(core: Core) {
  if (!core.fleet) return new Elysia();
  return new Elysia({ prefix: "/v1/fleet" }).post(
    "/returns/:host",
    ({ request, params }) => {
      // Only the host itself (signed) asks for its VMs back.
      if (forwardedOf(request)?.from !== params.host)
        throw new Forbidden("only that host of the fleet asks for its VMs back");
      return { returning: returnVms(core, params.host) };
    },
    {
      params: t.Object({ host: t.String({ minLength: 1, maxLength: 253 }) }),
      detail: {
        summary: "fleet only: migrate back the VMs whose last node is that host (its unflush)",
        tags: ["vms"],
        hide: true,
      },
    },
  );
}
