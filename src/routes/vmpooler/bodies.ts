// vmpooler's success bodies (v1.rb's shapes), for the OpenAPI document only: the routes return them already right.
import { t } from "elysia";
import { documented } from "../documented.ts";

const ok = t.Literal(true);
const domain = t.Optional(t.String({ description: "[vmpooler] domain, when set" }));
const time = t.Union([t.String({ description: "YYYY-MM-DD HH:MM:SS +0000" }), t.Null()]);

/** {"ok": true} and nothing else. */
export const OkBody = documented("done", t.Object({ ok }), { ok: true });

export const CheckoutOkBody = documented(
  "every VM asked for, keyed by the pool or alias named: one hostname, or a list for several",
  t.Object(
    { ok, domain },
    {
      additionalProperties: t.Object({ hostname: t.Union([t.String(), t.Array(t.String())]) }),
    },
  ),
  { ok: true, "debian-12": { hostname: "debian-12-a1b2c3" } },
);

export const VmBody = documented(
  "the VM, keyed by its name",
  t.Object(
    { ok },
    {
      additionalProperties: t.Object({
        template: t.String({ description: "its pool (else its profile or image)" }),
        lifetime: t.Integer({ description: "hours" }),
        running: t.Number({ description: "hours since checkout (or start)" }),
        remaining: t.Optional(t.Number({ description: "hours left on its lease" })),
        start_time: t.Optional(t.String({ format: "date-time" })),
        end_time: t.Optional(t.String({ format: "date-time" })),
        state: t.String({ description: "running, destroyed, ready, pending, completed, …" }),
        tags: t.Record(t.String(), t.String()),
        snapshots: t.Optional(t.Array(t.String())),
        disk: t.Optional(t.Array(t.String({ description: "+<GB>gb" }))),
        ip: t.String({ description: '"" when none is known' }),
        domain,
        host: t.String({ description: "the hypervisor's host name" }),
      }),
    },
  ),
);

export const DiskOkBody = documented(
  "accepted: the disk asked for, keyed by the VM",
  t.Object({ ok }, { additionalProperties: t.Object({ disk: t.String({ description: "+<GB>gb" }) }) }),
  { ok: true, "debian-12-a1b2c3": { disk: "+8gb" } },
);

export const SnapshotOkBody = documented(
  "accepted: the snapshot's name, keyed by the VM",
  t.Object({ ok }, { additionalProperties: t.Object({ snapshot: t.String() }) }),
);

export const OndemandOkBody = documented(
  "the request is taken: poll GET /ondemandvm/<request_id>",
  t.Object({ ok, request_id: t.String(), domain }),
);

const requestHead = { ok, request_id: t.String(), ready: t.Boolean() };

export const OndemandReadyBody = documented(
  "ready (hosts per pool), or ended: deleted or failed, with a message",
  t.Object(
    { ...requestHead, domain, message: t.Optional(t.String()) },
    { additionalProperties: t.Object({ hostname: t.Array(t.String()) }) },
  ),
);

export const OndemandPendingBody = documented(
  "not ready yet: ready and pending counts (strings, as vmpooler) per pool",
  t.Object(requestHead, {
    additionalProperties: t.Object({ ready: t.String(), pending: t.String() }),
  }),
);

export const OndemandDeletedBody = documented(
  "deleted (again: says so)",
  t.Object({ ok, message: t.Optional(t.String()) }),
);

export const TokensBody = documented(
  "the caller's tokens by id",
  t.Object(
    { ok },
    {
      additionalProperties: t.Object({
        created: time,
        last: t.String({ description: '"never" when unused' }),
      }),
    },
  ),
);

export const IssuedTokenBody = documented("the new token", t.Object({ ok, token: t.String() }));

export const TokenInfoBody = documented(
  "the token's user, times and the user's checked-out VMs, keyed by the token named",
  t.Object(
    { ok },
    {
      additionalProperties: t.Object({
        user: t.String(),
        created: time,
        last: time,
        vms: t.Object({ running: t.Array(t.String()) }),
      }),
    },
  ),
);

const duration = t.Object({
  duration: t.Object({
    average: t.Number(),
    min: t.Number(),
    max: t.Number(),
    total: t.Number(),
  }),
  count: t.Object({ total: t.Integer() }),
});

export const StatusBody = documented(
  "the parts asked for (all without ?view); status always",
  t.Object({
    capacity: t.Optional(t.Object({}, { additionalProperties: t.Number() })),
    queue: t.Optional(t.Object({}, { additionalProperties: t.Integer() })),
    clone: t.Optional(duration),
    boot: t.Optional(duration),
    pools: t.Optional(
      t.Record(
        t.String(),
        t.Object({
          ready: t.Integer(),
          running: t.Integer(),
          pending: t.Integer(),
          max: t.Integer(),
          lastBoot: time,
          alias: t.Optional(t.Array(t.String())),
        }),
      ),
    ),
    status: t.Object({
      ok: t.Boolean({ description: "false when a pool is empty" }),
      message: t.String(),
      empty: t.Optional(t.Array(t.String())),
      uptime: t.Number({ description: "seconds" }),
    }),
  }),
);

const stats = t.Object({ average: t.Number(), min: t.Number(), max: t.Number(), total: t.Number() });
const tagTable = t.Record(t.String(), t.Record(t.String(), t.Integer()), {
  description: "per tag key, each value's count and the key's total",
});
const dayTask = t.Object({ duration: stats, count: t.Object({ total: t.Integer() }) });
const rangeTask = t.Object({ duration: stats, count: stats });

export const SummaryBody = documented(
  "boot and clone durations (seconds) and tag counts over the range, overall and per day",
  t.Object({
    boot: rangeTask,
    clone: rangeTask,
    tag: tagTable,
    daily: t.Array(
      t.Object({ date: t.String({ format: "date" }), boot: dayTask, clone: dayTask, tag: tagTable }),
    ),
  }),
);

export const SummaryPartBody = documented(
  "the part (boot, clone or tag; with a key, only that field or tag) over the range, keyed by the part's name, and per day",
  t.Object(
    {
      daily: t.Array(
        t.Object(
          { date: t.String({ format: "date" }) },
          { additionalProperties: t.Object({}, { additionalProperties: true }) },
        ),
      ),
    },
    { additionalProperties: t.Object({}, { additionalProperties: true }) },
  ),
);

export const DashboardPoolsBody = documented(
  "each pool's size and ready count",
  t.Record(
    t.String(),
    t.Object({ size: t.Integer(), ready: t.Integer(), history: t.Optional(t.Array(t.Integer())) }),
  ),
);

export const DashboardRunningBody = documented(
  "checked-out VMs per platform",
  t.Record(t.String(), t.Object({ running: t.Integer() })),
);
