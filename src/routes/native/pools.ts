// /v1/pools: pools of ready VMs (create, list, show, change size or recipe, delete, reset); berth.toml may declare some.

import type { TSchema } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import { PoolFields, PoolSchema } from "../../config/schema.ts";
import type { Core } from "../../core/context.ts";
import {
  createPool,
  deletePool,
  listPools,
  resetPool,
  showPool,
  updatePool,
} from "../../core/pools/pools.ts";
import { callerOf } from "../auth.ts";

const tags = ["pools"];
const ByName = t.Object({ name: t.String({ maxLength: 63 }) });
const Count = t.Integer({ minimum: 0 });

const PoolView = t.Object({
  name: t.String(),
  origin: t.Union([t.Literal("api"), t.Literal("config")]),
  ...PoolFields,
  generation: t.Integer(),
  failures: t.Integer(),
  counts: t.Object({ pending: Count, ready: Count, checked_out: Count, draining: Count }),
  created_at: t.String(),
  updated_at: t.String(),
});

const orNull = <S extends TSchema>(s: S) => t.Optional(t.Union([s, t.Null()]));

const PatchPoolSchema = t.Object(
  {
    profile: orNull(PoolFields.profile),
    image: orNull(PoolFields.image),
    vm_size: orNull(PoolFields.vm_size),
    networks: orNull(PoolFields.networks),
    size: t.Optional(PoolFields.size),
    ready_ttl: orNull(PoolFields.ready_ttl),
    lifetime: orNull(PoolFields.lifetime),
    max_lifetime: orNull(PoolFields.max_lifetime),
    ready_check: orNull(PoolFields.ready_check),
    ready_timeout: orNull(PoolFields.ready_timeout),
    alias: orNull(PoolFields.alias),
    tier: orNull(PoolFields.tier),
    fleet: orNull(PoolFields.fleet),
  },
  { additionalProperties: false },
);

export function poolRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/pools" })
    .get("", () => listPools(core), {
      response: t.Array(PoolView),
      detail: { summary: "List pools with their pending, ready, checked-out and draining counts", tags },
    })
    .post("", ({ request, body, status }) => status(201, createPool(core, callerOf({ request }), body)), {
      body: PoolSchema,
      response: { 201: PoolView },
      detail: {
        summary: "Create a pool",
        description:
          "A profile, or an image and a vm_size (and networks), makes its VMs; `size` is how many are kept pending or ready. Defaults: ready_ttl 60 min, lifetime 24 h, max_lifetime 168 h, ready_check running, ready_timeout 15 min, tier running (paused or saved: ready VMs are suspended or managed-saved once ready, and woken on checkout). Every reference must exist (404); 409 when the name or an alias is taken or the config file declares it.",
        tags,
      },
    })
    .get("/:name", ({ params }) => showPool(core, params.name), {
      params: ByName,
      response: PoolView,
      detail: { summary: "Show a pool", tags },
    })
    .patch(
      "/:name",
      ({ request, params, body }) => updatePool(core, callerOf({ request }), params.name, body),
      {
        params: ByName,
        body: PatchPoolSchema,
        response: PoolView,
        detail: {
          summary: "Change a pool: each field given replaces it, null removes it",
          description:
            "A new recipe (profile, image, vm_size, networks) drains the pending and ready VMs made from the old one; checked-out VMs are not touched. 409 for a pool the config file declares.",
          tags,
        },
      },
    )
    .delete(
      "/:name",
      ({ request, params, status }) => {
        deletePool(core, callerOf({ request }), params.name);
        return status(204, undefined);
      },
      {
        params: ByName,
        detail: {
          responses: { 204: { description: "deleted" } },
          summary:
            "Delete a pool (204): its pending and ready VMs are deleted, checked-out ones live out their lifetime",
          tags,
        },
      },
    )
    .post("/:name/reset", ({ request, params }) => resetPool(core, callerOf({ request }), params.name), {
      params: ByName,
      response: PoolView,
      detail: { summary: "Drain every pending and ready VM of the pool and refill it", tags },
    });
}
