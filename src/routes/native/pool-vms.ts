// GET /v1/checkouts: the pool VMs the caller sees, with their pool, stock status, owner and expiry.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { listPoolVmLeases } from "../../core/pools/leases.ts";
import { callerOf } from "../auth.ts";

const Lease = t.Object({
  vm: t.String(),
  pool: t.String(),
  status: t.Union([
    t.Literal("pending"),
    t.Literal("ready"),
    t.Literal("checked_out"),
    t.Literal("draining"),
  ]),
  owner: t.Nullable(
    t.String({ description: "who checked it out (null: not checked out, anonymous, or public view)" }),
  ),
  checked_out_at: t.Nullable(t.String()),
  expires_at: t.Nullable(t.String()),
});

export function poolVmRoutes(core: Core) {
  return new Elysia().get("/v1/checkouts", (ctx) => listPoolVmLeases(core, callerOf(ctx)), {
    response: t.Array(Lease),
    detail: {
      summary: "Pool VMs with their pool, status (pending, ready, checked_out, draining), owner and expiry",
      description:
        "The members of every pool whose VM the caller sees (the same rule as GET /v1/vms); the owner only to its owner and admins.",
      tags: ["pools"],
    },
  });
}
