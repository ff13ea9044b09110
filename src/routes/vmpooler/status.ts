// vmpooler's GET /status and GET /summary, in its document's shapes.
import { Elysia, t } from "elysia";
import type { Core } from "../../core/context.ts";
import { vmpoolerStatus, vmpoolerSummary } from "../../core/fronts/vmpooler.ts";
import { vmpoolerErrorShape } from "./errors.ts";
import { described } from "./schemas.ts";

const tags = ["vmpooler"];
const DATE = t.String({ maxLength: 10, description: "YYYY-MM-DD (UTC); default today" });

export function vmpoolerStatusRoutes(core: Core) {
  return new Elysia({ prefix: core.config.vmpooler.prefix })
    .mapResponse(vmpoolerErrorShape)
    .get("/status", () => vmpoolerStatus(core), {
      detail: {
        summary: "Capacity, today's clone durations, the queue, and status.ok false naming empty pools",
        tags,
      },
    })
    .get("/summary", ({ query }) => vmpoolerSummary(core, query), {
      query: t.Object({ from: t.Optional(DATE), to: t.Optional(DATE) }, { additionalProperties: false }),
      detail: {
        summary: "Boot and clone durations and tag counts from `from` to `to` (inclusive), overall and daily",
        responses: described({ 400: "a bad date, to before from, or more than 366 days" }),
        tags,
      },
    });
}
