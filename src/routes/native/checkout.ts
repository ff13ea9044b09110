// POST /v1/checkout: take ready VMs from one or more pools, all or nothing.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { checkoutAtAnyHost } from "../../core/fleet/pools-entry.ts";
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
  status: t.Union([t.Literal("running"), t.Literal("restoring")], {
    description:
      "restoring: a paused or saved pool's VM still being woken (only with wait=false; always for such VMs of a fleet pool). A fleet checkout may also answer unconfirmed (its host did not answer: it records the VM when back) or lost (its host drained it meanwhile and had no other ready VM of the pool to stand in; a stand-in is answered under its own name)",
  }),
  host: t.Optional(t.String({ description: "fleet pools: the host that holds the VM" })),
});

export function checkoutRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/checkout" }).post(
    "",
    (ctx) =>
      checkoutAtAnyHost(core, callerOf(ctx), ctx.body, {
        ...(ctx.query.lifetime !== undefined ? { lifetime: ctx.query.lifetime } : {}),
        ...(ctx.query.wait !== undefined ? { wait: ctx.query.wait } : {}),
      }),
    {
      body: t.Record(t.String({ pattern: HOSTNAME }), t.Integer({ minimum: 1, maximum: 1000 }), {
        additionalProperties: false,
        description: '{"<pool or alias>": count, …}',
      }),
      query: t.Object(
        {
          lifetime: t.Optional(t.Number({ exclusiveMinimum: 0, description: "hours; default the pool's" })),
          wait: t.Optional(
            t.Boolean({
              default: true,
              description:
                "for pools with tier paused or saved: true answers once every VM runs again; false answers at once with those VMs `restoring` (a vm.restored event follows, or pool.vm.restore_failed and the VM is drained)",
            }),
          ),
        },
        { additionalProperties: false },
      ),
      detail: {
        // Documented, not validated: core builds the body, and the hot path pays no response check.
        responses: {
          200: documented("the VMs checked out", t.Object({ vms: t.Array(CheckedOutVm) })),
        },
        summary: "Check out ready VMs: every one asked for, or none",
        description:
          "The caller (with auth on) becomes the owner, within [auth] max_running_vms_per_user (403 quota_exceeded). One transaction takes every VM or none: 503 `pool_empty` names each pool that had too few ready VMs (details.pools), 404 an unknown pool or alias. A VM is never handed out twice. Each gets the tag pool=<pool>, a lifetime (hours, default the pool's, at most its max_lifetime: 400 beyond) and an expiry; PATCH /v1/vms/{name} {lifetime} changes it, DELETE returns it. VMs of a pool with tier paused or saved are woken (resumed, or restored from libvirt's managed save) before the answer; one that cannot be woken is drained and replaced from its pool in the same checkout, and when no replacement is ready, 503 `restore_failed`: nothing was checked out. `?wait=false` answers at once with such VMs in status `restoring`.",
        tags,
      },
    },
  );
}
