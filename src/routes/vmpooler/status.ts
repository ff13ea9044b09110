// vmpooler's GET /status, /summary[/<boot|clone|tag>[/<key>]] and its dashboard's stats, in v1.rb's shapes.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import {
  vmpoolerDashboardPools,
  vmpoolerDashboardRunning,
  vmpoolerStatus,
  vmpoolerSummary,
  vmpoolerSummaryPart,
} from "../../core/fronts/vmpooler-status.ts";
import {
  DashboardPoolsBody,
  DashboardRunningBody,
  StatusBody,
  SummaryBody,
  SummaryPartBody,
} from "./bodies.ts";
import { described } from "./schemas.ts";

const tags = ["vmpooler"];
const summaryStatuses = described({
  400: "a bad date, to before from, or from in the future (any range is answered; other query keys are ignored)",
});

export function vmpoolerStatusRoutes(core: Core, base: string) {
  return new Elysia({ prefix: base })
    .get(
      "/status",
      ({ query }) => vmpoolerStatus(core, typeof query.view === "string" ? query.view : undefined),
      {
        detail: {
          summary:
            "Capacity, queue, today's clone and boot durations, per-pool stock and status (ok false naming empty pools, uptime); ?view=capacity,queue,clone,boot,pools picks parts",
          responses: { 200: StatusBody },
          tags,
        },
      },
    )
    .get("/summary", ({ query }) => vmpoolerSummary(core, query), {
      detail: {
        summary:
          "Boot and clone durations and tag counts from `from` to `to` (inclusive, UTC), overall and daily",
        responses: { 200: SummaryBody, ...summaryStatuses },
        tags,
      },
    })
    .get("/summary/:part", ({ params, query }) => vmpoolerSummaryPart(core, params.part, undefined, query), {
      params: t.Object({ part: t.String({ maxLength: 16, description: "boot, clone or tag" }) }),
      detail: {
        summary: "One part of the summary",
        responses: { 200: SummaryPartBody, ...summaryStatuses },
        tags,
      },
    })
    .get(
      "/summary/:part/:key",
      ({ params, query }) => vmpoolerSummaryPart(core, params.part, params.key, query),
      {
        params: t.Object({
          part: t.String({ maxLength: 16, description: "boot, clone or tag" }),
          key: t.String({ maxLength: 255, description: "duration or count; for tag, a tag name" }),
        }),
        detail: {
          summary: "One field of one part of the summary",
          responses: { 200: SummaryPartBody, ...summaryStatuses },
          tags,
        },
      },
    );
}

/** vmpooler's dashboard served these at the root, beside its API. */
export function vmpoolerDashboardRoutes(core: Core) {
  return new Elysia({ prefix: "/dashboard/stats/vmpooler" })
    .get("/pool", ({ query }) => vmpoolerDashboardPools(core, query.history !== undefined), {
      detail: {
        summary: "vmpooler dashboard: each pool's size and ready count (?history: now only)",
        responses: { 200: DashboardPoolsBody },
        tags,
      },
    })
    .get("/running", () => vmpoolerDashboardRunning(core), {
      detail: {
        summary: "vmpooler dashboard: checked-out VMs per platform (the name before its first -)",
        responses: { 200: DashboardRunningBody },
        tags,
      },
    });
}
