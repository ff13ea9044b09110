// POST /v1/checkout: take ready VMs from one or more pools, all or nothing.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { checkoutGrouped } from "../../core/pools/checkout.ts";
import { HOSTNAME } from "../../patterns.ts";
import { callerOf } from "../auth.ts";
import { documented } from "../documented.ts";

const tags = ["pools"];

const CheckedOutVm = t.Object({
  name: t.String(),
  pool: t.String(),
  requested: t.String(),
  owner: t.Nullable(t.String()),
  lifetime_hours: t.Number(),
  checked_out_at: t.String(),
  expires_at: t.String(),
});

export function checkoutRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/checkout" }).post(
    "",
    (ctx) =>
      checkoutGrouped(core, ctx.body, {
        owner: callerOf(ctx)?.name ?? null,
        ...(ctx.query.lifetime !== undefined ? { lifetime: ctx.query.lifetime } : {}),
      }),
    {
      body: t.Record(t.String({ pattern: HOSTNAME }), t.Integer({ minimum: 1, maximum: 1000 }), {
        additionalProperties: false,
        description: '{"<pool or alias>": count, …}',
      }),
      query: t.Object(
        { lifetime: t.Optional(t.Number({ exclusiveMinimum: 0, description: "hours; default the pool's" })) },
        { additionalProperties: false },
      ),
      detail: {
        // Documented, not validated: core builds the body, and the hot path pays no response check.
        responses: {
          200: documented("the VMs checked out", t.Object({ vms: t.Array(CheckedOutVm) })),
        },
        summary: "Check out ready VMs: every one asked for, or none",
        description:
          "The caller (with auth on) becomes the owner, within [auth] max_running_vms_per_user (403 quota_exceeded). One transaction takes every VM or none: 503 `pool_empty` names each pool that had too few ready VMs (details.pools), 404 an unknown pool or alias. A VM is never handed out twice. Each gets the tag pool=<pool>, a lifetime (hours, default the pool's, at most its max_lifetime: 400 beyond) and an expiry; PATCH /v1/vms/{name} {lifetime} changes it, DELETE returns it.",
        tags,
      },
    },
  );
}
