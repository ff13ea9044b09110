// Fleet-only routes of a migration, answered only to another host's signed request: arrivals (prepare, commit, drop) and departing disks.
import { Elysia, t } from "elysia";
import type { Core } from "../core/context.ts";
import { type ArrivalRequest, commitArrival, dropArrival, prepareArrival } from "../core/fleet/arrive.ts";
import { departureDisk, isDeparting } from "../core/fleet/depart.ts";
import type { Fleet } from "../core/fleet/fleet.ts";
import { NotFound } from "../errors.ts";
import { forwardedOf } from "./fleet-arrival.ts";

/** The host a fleet step comes from; a request without a verified fleet signature finds nothing here. */
function sender(request: Request): string {
  const from = forwardedOf(request)?.from;
  if (from === undefined) throw new NotFound("not found");
  return from;
}

const ByName = t.Object({ name: t.String({ minLength: 1, maxLength: 253 }) });
const Migration = t.Object(
  { migration: t.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);
const detail = (summary: string) => ({ summary, tags: ["vms"], hide: true });

export function fleetMoveRoutes(core: Core) {
  const fleet = core.fleet;
  if (!fleet) return new Elysia();
  const f: Fleet = fleet;
  return new Elysia({ prefix: "/v1/fleet" })
    .post(
      "/arrivals",
      async ({ request, body }) => {
        const prepared = await prepareArrival(core, f, sender(request), body as ArrivalRequest);
        return { prepared: (body as ArrivalRequest).record.vm.name, ...prepared };
      },
      {
        body: t.Object(
          { migration: t.String(), live: t.Boolean(), record: t.Any() },
          { additionalProperties: false },
        ),
        detail: detail(
          "fleet only: take a VM's record (and, offline, pull its disks) before the claim moves here",
        ),
      },
    )
    .post(
      "/arrivals/:name/commit",
      async ({ request, params, query }) => {
        await commitArrival(core, f, params.name, query.migration, sender(request));
        return { committed: params.name };
      },
      {
        params: ByName,
        query: Migration,
        detail: detail("fleet only: the claim is here, the VM becomes this host's"),
      },
    )
    .delete(
      "/arrivals/:name",
      async ({ request, params, query }) => {
        await dropArrival(core, f, params.name, query.migration, sender(request));
        return { dropped: params.name };
      },
      { params: ByName, query: Migration, detail: detail("fleet only: the migration was abandoned") },
    )
    .get(
      "/departures/:name",
      ({ request, params, query }) => ({
        departing: isDeparting(core, sender(request), params.name, query.migration),
      }),
      {
        params: ByName,
        query: Migration,
        detail: detail("fleet only: whether this host still departs a VM to the asking host"),
      },
    )
    .get(
      "/departures/:name/disks/:unit",
      ({ request, params, query }) =>
        new Response(
          Bun.file(departureDisk(core, sender(request), params.name, params.unit, query.migration)),
        ),
      {
        params: t.Object({ name: t.String({ minLength: 1, maxLength: 253 }), unit: t.Numeric() }),
        query: Migration,
        detail: detail("fleet only: a departing VM's disk, for the destination to pull"),
      },
    );
}
