// Status, summary and metrics: what the native API and the compatible fronts report about pools.
export { type CheckoutOutcome, checkoutCounts, countCheckout } from "./counters.ts";
export { type DurationStats, durationStats } from "./durations.ts";
export { DURATION_BUCKETS, escapeLabel, METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
export { dayBounds, type PoolStatus, poolStatus, type Status } from "./status.ts";
export { MAX_SUMMARY_DAYS, type Summary, summary } from "./summary.ts";
