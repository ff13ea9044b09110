// In-process metrics of one running berth: HTTP requests by route template and status class, libvirt calls by name.
import type { Core } from "../context.ts";
import { ops } from "../hypervisor/ops/index.ts";
import { type Exposition, LabeledCounter, LabeledHistogram } from "./exposition.ts";

/** Seconds: Prometheus' client default buckets, fine enough for an API answering in milliseconds. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Seconds: a lookup takes ~1 ms, a guest start ~0.5 s, a destroy up to seconds, a hung call its timeout. */
export const LIBVIRT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300] as const;
export const STATUS_CLASSES = ["2xx", "3xx", "4xx", "5xx"] as const;
/** The route of a request no route answers (a 404 path): never the raw path, whose names are unbounded. */
export const UNMATCHED = "(unmatched)";

interface Route {
  method: string;
  path: string;
  segments: string[];
  statics: number;
}

export class LiveMetrics {
  readonly httpSeconds = new LabeledHistogram(["method", "route"], HTTP_BUCKETS);
  readonly httpRequests = new LabeledCounter(["method", "route", "status"]);
  readonly libvirtSeconds = new LabeledHistogram(["call"], LIBVIRT_BUCKETS);
  readonly libvirtTimeouts = new LabeledCounter(["call"]);
  readonly libvirtErrors = new LabeledCounter(["call"]);
  readonly #routes: Route[] = [];
  readonly #known = new Set<string>();

  constructor() {
    for (const call of Object.keys(ops)) {
      if (call.startsWith("debug.")) continue;
      this.libvirtSeconds.declare({ call });
      this.libvirtTimeouts.declare({ call });
      this.libvirtErrors.declare({ call });
    }
  }

  /** Every route an app serves: its series exist at 0 before its first request. */
  declareRoutes(routes: { method: string; path: string }[]): void {
    for (const { method, path } of routes) {
      // A WebSocket route is answered by its upgrade: counted under GET, as the request comes.
      const m = method === "WS" ? "GET" : method;
      const key = `${m} ${path}`;
      if (this.#known.has(key)) continue;
      this.#known.add(key);
      const segments = path.split("/");
      this.#routes.push({
        method: m,
        path,
        segments,
        statics: segments.filter((s) => !s.startsWith(":") && s !== "*").length,
      });
      this.httpSeconds.declare({ method: m, route: path });
      for (const status of STATUS_CLASSES) this.httpRequests.declare({ method: m, route: path, status });
    }
    // The most specific template wins a match (/v1/vms/:name/start before /v1/vms/:name/:x).
    this.#routes.sort((a, b) => b.statics - a.statics);
  }

  /** The template of a declared route `path` matches, for requests answered before routing (a 401); else UNMATCHED. */
  templateOf(method: string, path: string): string {
    const parts = path.split("/");
    const hit = this.#routes.find((r) => r.method === method && matches(r.segments, parts));
    return hit?.path ?? UNMATCHED;
  }

  recordHttp(method: string, route: string | null, path: string, status: number, seconds: number): void {
    const template = route && this.#known.has(`${method} ${route}`) ? route : this.templateOf(method, path);
    this.httpSeconds.observe({ method, route: template }, seconds);
    this.httpRequests.inc({ method, route: template, status: `${Math.floor(status / 100)}xx` });
  }

  recordCall(call: string, seconds: number, outcome: "ok" | "error" | "timeout"): void {
    this.libvirtSeconds.observe({ call }, seconds);
    if (outcome === "timeout") this.libvirtTimeouts.inc({ call });
    if (outcome === "error") this.libvirtErrors.inc({ call });
  }

  render(e: Exposition): void {
    e.family(
      "berth_http_requests_total",
      "HTTP requests answered, by method, route template and status class",
      "counter",
    );
    this.httpRequests.render(e, "berth_http_requests_total");
    e.family(
      "berth_http_request_duration_seconds",
      "time to answer an HTTP request, by method and route template",
      "histogram",
    );
    this.httpSeconds.render(e, "berth_http_request_duration_seconds");
    e.family(
      "berth_libvirt_call_duration_seconds",
      "libvirt calls run in the hypervisor Workers, by call",
      "histogram",
    );
    this.libvirtSeconds.render(e, "berth_libvirt_call_duration_seconds");
    e.family(
      "berth_libvirt_call_timeouts_total",
      "libvirt calls that passed their deadline (their Worker replaced), by call",
      "counter",
    );
    this.libvirtTimeouts.render(e, "berth_libvirt_call_timeouts_total");
    e.family("berth_libvirt_call_errors_total", "libvirt calls that failed, by call", "counter");
    this.libvirtErrors.render(e, "berth_libvirt_call_errors_total");
  }
}

function matches(template: string[], parts: string[]): boolean {
  for (let i = 0; i < template.length; i++) {
    const t = template[i] as string;
    if (t === "*") return true;
    const p = parts[i];
    if (p === undefined) return false;
    if (t.startsWith(":") ? p === "" : t !== p) return false;
  }
  return template.length === parts.length;
}

// Keyed by the database, which every copy of a core (a reload's, a test's) shares.
const registries = new WeakMap<object, LiveMetrics>();

export function liveMetrics(core: Pick<Core, "db">): LiveMetrics {
  let m = registries.get(core.db);
  if (!m) {
    m = new LiveMetrics();
    registries.set(core.db, m);
  }
  return m;
}

/** Times every libvirt call of `core`; returns the unsubscribe. */
export function trackLibvirtCalls(core: Pick<Core, "db" | "hv">): () => void {
  const m = liveMetrics(core);
  return core.hv.onCall((call, seconds, outcome) => m.recordCall(call, seconds, outcome));
}
