// GET /v1/status and GET /v1/summary: live pool status, and daily clone/boot durations and tag counts.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { poolStatus, summary } from "../../core/status/index.ts";

const tags = ["status"];
const N = t.Number();
const Stats = t.Object({ average: N, min: N, max: N, total: N, count: t.Integer() });
const Duration = t.Object({ average: N, min: N, max: N, total: N });
const TagTable = t.Record(t.String(), t.Record(t.String(), t.Integer()), {
  description:
    "tag key → value → count of checked-out VMs carrying it, with each key's total; the owner is tag user",
});

const Status = t.Object({
  ok: t.Boolean(),
  message: t.String(),
  pools: t.Array(
    t.Object({
      name: t.String(),
      size: t.Integer(),
      ready: t.Integer(),
      pending: t.Integer(),
      running: t.Integer({ description: "checked out" }),
      draining: t.Integer(),
      failures: t.Integer(),
    }),
  ),
  capacity: t.Object({ current: t.Integer(), total: t.Integer(), percent: N }),
  empty: t.Array(t.String(), { description: "pools (of size above 0) with no ready VM" }),
  clone: Stats,
  boot: Stats,
  queue: t.Object({
    pending: t.Integer(),
    cloning: t.Integer(),
    booting: t.Integer(),
    ready: t.Integer(),
    running: t.Integer(),
    total: t.Integer(),
    operations: t.Integer({ description: "operations of any kind still running" }),
  }),
});

const Day = t.Object({ duration: Duration, count: t.Object({ total: t.Integer() }) });
const Range = t.Object({ duration: Duration, count: Duration });
const Summary = t.Object({
  boot: Range,
  clone: Range,
  tag: TagTable,
  daily: t.Array(t.Object({ date: t.String(), boot: Day, clone: Day, tag: TagTable })),
});

const DATE = t.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$", description: "YYYY-MM-DD (UTC); default today" });

export function statusRoutes(core: Core) {
  return new Elysia()
    .get("/v1/status", () => poolStatus(core), {
      response: Status,
      detail: {
        summary: "Pool stock, capacity, empty pools, today's clone and boot durations, queue counts",
        description:
          "Durations are seconds, over today (UTC): clone is a pool VM's create operation (to the VM running), boot its creation to passing its readiness check.",
        tags,
      },
    })
    .get("/v1/summary", ({ query }) => summary(core, query), {
      query: t.Object({ from: t.Optional(DATE), to: t.Optional(DATE) }, { additionalProperties: false }),
      response: Summary,
      detail: {
        summary: "Daily and overall clone and boot durations and tag counts between two days (inclusive)",
        description:
          "vmpooler's /summary shape. from and to default to today; at most 366 days; 400 for a bad date or to before from.",
        tags,
      },
    });
}
