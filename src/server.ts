// Composition of a running berth: config → db → hypervisor → core → HTTP server, and its orderly stop.
import type { Database } from "bun:sqlite";
import { parseListen } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import type { Core } from "./core/context.ts";
import { EventBus } from "./core/events.ts";
import { probeDomainType } from "./core/host.ts";
import { Hypervisor } from "./core/hypervisor/client.ts";
import { Locks } from "./core/locks.ts";
import { Operations } from "./core/operations.ts";
import { setMeta } from "./db/host-meta.ts";
import { openDatabase } from "./db/open.ts";
import { sdNotify } from "./ffi/index.ts";
import { log } from "./log.ts";
import { createApp } from "./routes/app.ts";

export interface WorkerUrls {
  hypervisor: string;
  pump: string;
}

export interface RunningBerth {
  core: Core;
  url: string;
  stop(): Promise<void>;
}

/** The test driver keeps its state per connection, so it gets exactly one Worker. */
export function workerCount(config: Config): number {
  return config.hypervisor.uri.startsWith("test:") ? 1 : config.hypervisor.workers;
}

export function createHypervisor(config: Config, urls: WorkerUrls): Hypervisor {
  const hv = config.hypervisor;
  return new Hypervisor({
    uri: hv.uri,
    workerUrl: urls.hypervisor,
    pumpUrl: urls.pump,
    workers: workerCount(config),
    callTimeoutMs: hv.call_timeout_ms,
    longCallTimeoutMs: hv.long_call_timeout_ms,
    reconnectMaxMs: hv.reconnect_max_ms,
  });
}

export async function buildCore(config: Config, db: Database, hv: Hypervisor): Promise<Core> {
  const events = new EventBus();
  const locks = new Locks();
  const ops = new Operations(db, events, locks);
  const interrupted = ops.recoverInterrupted();
  if (interrupted > 0)
    log.warn("operations interrupted by the last stop were marked failed", { count: interrupted });
  let domainType: "kvm" | "qemu" | "unknown" = "unknown";
  const probe = async () => {
    domainType = await probeDomainType(hv, config.hypervisor.domain_type);
  };
  hv.onState((state, reason) => {
    log[state === "down" ? "warn" : "info"](`hypervisor ${state}`, { reason });
    if (state === "up" && domainType === "unknown") void probe();
  });
  hv.onLifecycle((e) => {
    log.debug("domain event", { name: e.name, event: e.event, detail: e.detail });
    events.publish("domain.lifecycle", `domain/${e.name}`, {
      uuid: e.uuid,
      event: e.event,
      detail: e.detail,
    });
  });
  await hv.start();
  await probe();
  return { config, db, hv, events, locks, ops, domainType: () => domainType };
}

export async function startBerth(config: Config, urls: WorkerUrls): Promise<RunningBerth> {
  const db = openDatabase(config.data_dir);
  if (!db.query("SELECT 1 FROM host_meta WHERE key = 'first_started'").get()) {
    setMeta(db, "first_started", new Date().toISOString());
  }
  setMeta(db, "hypervisor_uri", config.hypervisor.uri);
  const hv = createHypervisor(config, urls);
  const core = await buildCore(config, db, hv);
  const { hostname, port } = parseListen(config.listen);
  const app = createApp(core).listen({ hostname, port });
  const url = `http://${config.listen}`;
  log.info("berth listening", { url, hypervisor: config.hypervisor.uri, state: hv.state });

  sdNotify("READY=1");
  const watchdogUsec = Number(process.env.WATCHDOG_USEC ?? 0);
  // Pinging at half the interval proves the HTTP thread's event loop is alive.
  const watchdog = watchdogUsec > 0 ? setInterval(() => sdNotify("WATCHDOG=1"), watchdogUsec / 2000) : null;

  return {
    core,
    url,
    async stop() {
      sdNotify("STOPPING=1");
      if (watchdog) clearInterval(watchdog);
      await app.stop();
      await hv.close();
      db.close();
    },
  };
}
