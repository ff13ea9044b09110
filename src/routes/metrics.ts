// GET /metrics: Prometheus text exposition of pools, checkouts, durations, operation errors and libvirt state.
import { Elysia, t } from "elysia";
import type { Core } from "../core/context.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../core/status/index.ts";

export function metricsRoutes(core: Core) {
  return new Elysia().get(
    "/metrics",
    ({ set }) => {
      set.headers["content-type"] = METRICS_CONTENT_TYPE;
      return renderMetrics(core);
    },
    {
      response: t.String({ description: "Prometheus text format 0.0.4" }),
      detail: {
        summary: "Prometheus metrics",
        description:
          "Gauges berth_pool_{size,ready,pending,checked_out}{pool}, counter berth_checkouts_total{outcome=success|empty|invalid} (since start), histograms berth_clone_seconds and berth_ready_seconds{pool}, counter berth_operation_errors_total{kind}, gauge berth_libvirt_up.",
        tags: ["status"],
      },
    },
  );
}
