// Fleet pools over HTTP: a pool's stock over the fleet, and the signed call a checking-out host makes to record its VMs here.
import { Elysia, t } from "elysia";
import { Forbidden } from "../core/auth/errors.ts";
import type { Core } from "../core/context.ts";
import { fleetStock } from "../core/fleet/pools-entry.ts";
import { recordCheckout } from "../core/fleet/pools-record.ts";
import { forwardedOf } from "./fleet-arrival.ts";

const tags = ["pools"];

/** Mounted on the native front; nothing on a host outside a fleet. */
export function fleetPoolRoutes(core: Core) {
  const fleet = core.fleet;
  if (!fleet) return new Elysia();
  return new Elysia({ prefix: "/v1/fleet" })
    .get("/pools/:name", ({ params }) => fleetStock(core, params.name), {
      params: t.Object({ name: t.String({ maxLength: 63 }) }),
      detail: {
        summary: "A fleet pool's ready VMs over the fleet, by host (published in etcd by each live host)",
        tags,
      },
    })
    .post(
      "/checkouts/:id/record",
      ({ request, params }) => {
        // Only another host of the fleet (signed) asks this: the VMs were already taken in etcd.
        if (!forwardedOf(request)) throw new Forbidden("only a host of the fleet records a fleet checkout");
        return recordCheckout(core, fleet, params.id);
      },
      {
        params: t.Object({ id: t.String({ maxLength: 64, pattern: "^[0-9a-f-]{1,64}$" }) }),
        detail: {
          summary: "Record this host's VMs of a fleet checkout (host to host, signed with the fleet secret)",
          tags,
        },
      },
    );
}
