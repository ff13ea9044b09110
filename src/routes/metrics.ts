// GET /metrics: Prometheus text exposition of pools, checkouts, durations, errors, libvirt, HTTP, the process, VMs and users.
import { Elysia, t } from "elysia";
import type { Core } from "../core/context.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../core/status/index.ts";
import { callerOf } from "./auth.ts";

export function metricsRoutes(core: Core) {
  return new Elysia().get(
    "/metrics",
    ({ set, request }) => {
      set.headers["content-type"] = METRICS_CONTENT_TYPE;
      // Who holds how much names users: with auth on, only an admin's scrape (its token) gets it.
      const perUser = !core.config.auth.enabled || callerOf({ request })?.admin === true;
      return renderMetrics(core, Date.now(), { perUser });
    },
    {
      response: t.String({ description: "Prometheus text format 0.0.4" }),
      detail: {
        summary: "Prometheus metrics",
        description:
          "Gauges berth_pool_{size,ready,pending,checked_out,failures,draining}{pool}, counter berth_checkouts_total{outcome=success|empty|invalid} (since start), histograms berth_clone_seconds and berth_ready_seconds{pool}, counter berth_operation_errors_total{kind}, gauge berth_libvirt_up, counter berth_reconcile_passes_total{outcome=ok|errors} and gauges berth_reconcile_last_pass_{timestamp,duration}_seconds (0 before the first pass), berth_build_info{version,bun_version,domain_type} 1, process_{cpu_seconds_total,resident_memory_bytes,start_time_seconds,open_fds,max_fds}, berth_http_requests_total{method,route,status} (route template, status class) and histogram berth_http_request_duration_seconds{method,route}, histogram berth_libvirt_call_duration_seconds{call} and counters berth_libvirt_call_{timeouts,errors}_total{call}, gauge berth_vms{state}, gauges berth_user_{vms,vcpus,memory_bytes}{owner} (with auth on, only for an admin's token). Every route, status class, call, state, pool and declared user is reported from the start (0).",
        tags: ["status"],
      },
    },
  );
}
