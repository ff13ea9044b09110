// /v1/requests: on-demand requests (vmpooler's /ondemandvm) for pool VMs beyond the ready stock.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { cancelRequest, createRequest, requestViewFor } from "../../core/pools/requests.ts";
import { HOSTNAME } from "../../patterns.ts";
import { callerOf } from "../auth.ts";

const tags = ["pools"];

const RequestSchema = t.Object({
  id: t.String(),
  owner: t.Nullable(t.String()),
  status: t.Union([t.Literal("pending"), t.Literal("ready"), t.Literal("cancelled"), t.Literal("failed")]),
  ready: t.Boolean(),
  lifetime_hours: t.Nullable(t.Number()),
  error: t.Nullable(t.String()),
  created_at: t.String(),
  ready_at: t.Nullable(t.String()),
  pools: t.Array(
    t.Object({
      pool: t.String(),
      requested: t.Integer(),
      ready: t.Integer(),
      pending: t.Integer(),
      vms: t.Array(t.String()),
    }),
  ),
});

const ById = t.Object({ id: t.String({ minLength: 1, maxLength: 64 }) });

export function requestRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/requests" })
    .post(
      "",
      (ctx) => {
        const view = createRequest(core, ctx.body, {
          owner: callerOf(ctx)?.name ?? null,
          ...(ctx.query.lifetime !== undefined ? { lifetime: ctx.query.lifetime } : {}),
        });
        ctx.set.status = 202;
        ctx.set.headers.location = `/v1/requests/${view.id}`;
        return view;
      },
      {
        body: t.Record(t.String({ pattern: HOSTNAME }), t.Integer({ minimum: 1, maximum: 1000 }), {
          additionalProperties: false,
          description: '{"<pool or alias>": count, …}',
        }),
        query: t.Object(
          {
            lifetime: t.Optional(t.Number({ exclusiveMinimum: 0, description: "hours; default the pool's" })),
          },
          { additionalProperties: false },
        ),
        response: { 202: RequestSchema },
        detail: {
          summary: "Ask for VMs beyond the pools' ready stock (vmpooler's /ondemandvm)",
          description:
            "202 + Location /v1/requests/{id}. The scheduler builds the VMs on top of each pool's size and, once every one asked for is ready, hands them all to the request at once (as a checkout: owner = the caller, lifetime in hours, default the pool's, at most its max_lifetime: 400 beyond). 404 an unknown pool or alias; 403 quota_exceeded beyond [auth] max_running_vms_per_user.",
          tags,
        },
      },
    )
    .get("/:id", ({ request, params }) => requestViewFor(core, callerOf({ request }), params.id), {
      params: ById,
      response: RequestSchema,
      detail: {
        summary: "A request: pending with ready/pending counts per pool, or ready with its VMs",
        tags,
      },
    })
    .delete("/:id", (ctx) => cancelRequest(core, ctx.params.id, callerOf(ctx)), {
      params: ById,
      response: RequestSchema,
      detail: {
        summary: "Cancel a pending request, or return the VMs of a ready one",
        description:
          "A pending request stops asking (the VMs built for it drain); a ready one's VMs are deleted. 409 once cancelled or failed; 403 not_owner for another user's request when auth is on.",
        tags,
      },
    });
}
