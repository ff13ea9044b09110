// berth_build_info and the process metrics Prometheus' clients export (resident memory, CPU seconds, open fds, start time).
import { readdirSync, readFileSync } from "node:fs";
import { BERTH_VERSION } from "../../version.ts";
import type { Exposition } from "./exposition.ts";

/** The process's start, in seconds since the epoch (fixed at load: berth's start to within its module loading). */
const START = Math.round((Date.now() - process.uptime() * 1000) / 10) / 100;

/** The soft limit of open files from /proc, or null where it cannot be read. */
function maxFds(): number | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const n = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(n) ? n : null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

export function renderProcessMetrics(e: Exposition, domainType: string): void {
  e.family(
    "berth_build_info",
    "berth's version, the Bun runtime it runs on and its guests' domain type; always 1",
    "gauge",
  );
  e.sample(
    "berth_build_info",
    { version: BERTH_VERSION, bun_version: Bun.version, domain_type: domainType },
    1,
  );
  const cpu = process.cpuUsage();
  e.family("process_cpu_seconds_total", "user and system CPU time spent, in seconds", "counter");
  e.sample("process_cpu_seconds_total", {}, (cpu.user + cpu.system) / 1e6);
  e.family("process_resident_memory_bytes", "resident memory size, in bytes", "gauge");
  e.sample("process_resident_memory_bytes", {}, process.memoryUsage.rss());
  e.family("process_start_time_seconds", "start time of the process since the epoch, in seconds", "gauge");
  e.sample("process_start_time_seconds", {}, START);
  e.family("process_open_fds", "open file descriptors", "gauge");
  e.sample("process_open_fds", {}, readdirSync("/proc/self/fd").length);
  const max = maxFds();
  if (max !== null) {
    e.family("process_max_fds", "the most file descriptors the process may open", "gauge");
    e.sample("process_max_fds", {}, max);
  }
}
