// Composition of a running berth: config → db → hypervisor → core → HTTP server, and its orderly stop.
import type { Database } from "bun:sqlite";
import { join } from "node:path";
import { type ListenerPlan, listenerPlan } from "./config/fronts.ts";
import { parseListen } from "./config/listen.ts";
import type { Config } from "./config/schema.ts";
import { auditEvents } from "./core/audit.ts";
import { watchHostSize } from "./core/capacity.ts";
import type { Core } from "./core/context.ts";
import { syncDeclared } from "./core/declared.ts";
import { ensureDemo } from "./core/demo/ensure.ts";
import { EventBus } from "./core/events.ts";
import { openFleet } from "./core/fleet/fleet.ts";
import { startFleet } from "./core/fleet/service.ts";
import { startPvcAcls } from "./core/fronts/pvc-acls.ts";
import { ensureSysadmTls } from "./core/fronts/sysadm-tls.ts";
import { watchDomainType } from "./core/host.ts";
import type { Hypervisor } from "./core/hypervisor/client.ts";
import { openHypervisor } from "./core/hypervisor/open.ts";
import { recoverImports } from "./core/images/index.ts";
import { Locks } from "./core/locks.ts";
import { restoreDhcpHosts } from "./core/networks/dhcp-restore.ts";
import { Operations } from "./core/operations.ts";
import { stagingDir } from "./core/paths.ts";
import { MemberWorker } from "./core/pools/member-worker.ts";
import { trackLibvirtCalls } from "./core/status/live-metrics.ts";
import { forgetStoragePool } from "./core/storage-pool.ts";
import { watchInstalls } from "./core/vms/install.ts";
import { vmStates } from "./core/vms/state-map.ts";
import { berthDomains, trackLifecycle } from "./core/vms/track.ts";
import { startCheckpointer } from "./db/checkpointer.ts";
import { groupCommitOf } from "./db/group-commit.ts";
import { eventIdStore, setMeta } from "./db/host-meta.ts";
import { DB_FILE, openDatabase } from "./db/open.ts";
import { AppError } from "./errors.ts";
import { sdNotify } from "./ffi/index.ts";
import { log } from "./log.ts";
import { createApp } from "./routes/app.ts";
import { removeLeftoverUploads } from "./routes/request-values.ts";
import { startPoolScheduler } from "./scheduler/pools.ts";
import { startReconciler } from "./scheduler/reconcile.ts";

export interface WorkerUrls {
  hypervisor: string;
  pump: string;
  checkpointer: string;
  /** The Worker a pool's members are created in (src/workers/pool-members.ts). */
  members: string;
}

export interface RunningBerth {
  core: Core;
  url: string;
  stop(): Promise<void>;
}

export async function buildCore(config: Config, db: Database, hv: Hypervisor): Promise<Core> {
  const events = new EventBus(undefined, eventIdStore(db));
  auditEvents(events);
  const locks = new Locks();
  const ops = new Operations(db, events, locks);
  const interrupted = ops.recoverInterrupted();
  if (interrupted > 0)
    log.warn("operations interrupted by the last stop were marked failed", { count: interrupted });
  hv.onState((state, reason) => {
    log[state === "down" ? "warn" : "info"](`hypervisor ${state}`, { reason });
    if (state !== "up") forgetStoragePool(hv); // libvirtd may come back without it
  });
  const ours = berthDomains(db);
  hv.onLifecycle((e) => {
    if (!ours(e)) return; // another tenant's or installation's domain: its name is not ours to tell
    log.debug("domain event", { name: e.name, event: e.event, detail: e.detail });
    events.publish("domain.lifecycle", `domain/${e.name}`, {
      uuid: e.uuid,
      event: e.event,
      detail: e.detail,
    });
  });
  trackLibvirtCalls({ db, hv });
  // The lists' state map hears events and loads once libvirt is up: the first list waits for no read.
  vmStates(hv);
  await hv.start();
  const domainType = await watchDomainType(hv, config.hypervisor.domain_type);
  const core: Core = { config, db, hv, events, locks, ops, domainType };
  trackLifecycle(core);
  watchInstalls(core);
  // Size and profile definitions check the host's bounds synchronously: they need its size known.
  await watchHostSize(core);
  return core;
}

/**
 * Serves `app` on [listen] alone: Elysia's default SO_REUSEPORT would let a second berth bind the
 * same port and take every other request. Bun's body cap would answer a bare 413 outside the
 * front's error shape, so it is lifted: berth bounds every body it reads itself, JSON ones in the
 * body guard ([limits] max_body_bytes), uploads in core ([limits] max_upload_bytes and free space).
 */
function listen(app: ReturnType<typeof createApp>, plan: ListenerPlan, config: Config) {
  const address = plan.address;
  const { hostname, port } = parseListen(address);
  try {
    return app.listen({
      hostname,
      port,
      reusePort: false,
      idleTimeout: config.limits.idle_timeout_s,
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      ...(plan.tls ? { tls: { cert: Bun.file(plan.tls.certFile), key: Bun.file(plan.tls.keyFile) } } : {}),
    });
  } catch (e) {
    if (inUse(e)) throw addressInUse(address, e);
    throw e;
  }
}

/** Serves every listener of the plan; when one cannot bind, those already bound are stopped again. */
async function listenAll(core: Core): Promise<ReturnType<typeof listen>[]> {
  const served: ReturnType<typeof listen>[] = [];
  try {
    for (const plan of listenerPlan(core.config)) {
      served.push(listen(createApp(core, plan), plan, core.config));
      const scheme = plan.socket ? "wss" : plan.tls ? "https" : "http";
      log.info("berth listening", {
        url: `${scheme}://${plan.address}`,
        fronts: [
          ...plan.fronts.map((f) => f.front),
          ...(plan.socket ? [`${plan.socket} (websocket)`] : []),
        ].join(","),
      });
    }
    return served;
  } catch (e) {
    await Promise.all(served.map((app) => app.stop()));
    throw e;
  }
}

/** Open connections (an event stream, an upload) a stop waits for before it cuts them. */
const STOP_GRACE_MS = 5000;

/**
 * Stops serving `app`: new connections are refused at once; open ones get STOP_GRACE_MS to end, then
 * are cut, so a client that keeps an event stream open cannot hold a stop (systemd's) forever.
 */
async function stopServing(app: ReturnType<typeof listen>): Promise<void> {
  const server = app.server;
  if (!server) return;
  const cut = setTimeout(() => void server.stop(true), STOP_GRACE_MS);
  try {
    await server.stop(false);
  } finally {
    clearTimeout(cut);
  }
}

/** Runs `task` once, as soon as the hypervisor is up (now, or after it comes back). */
function whenUp(hv: Hypervisor, task: () => Promise<unknown>): void {
  const run = () =>
    task().catch((e) =>
      log.error("start-up task failed", { error: e instanceof Error ? e.message : String(e) }),
    );
  if (hv.state === "up") {
    void run();
    return;
  }
  const off = hv.onState((state) => {
    if (state !== "up") return;
    off();
    void run();
  });
}

/** The refusal to start on an address something else (often another berth) already listens on. */
function addressInUse(listen: string, cause: unknown): AppError {
  return new AppError(
    500,
    "address_in_use",
    `cannot listen on ${listen}: the address is already in use (another berth, or another service, listens there)`,
    { cause },
  );
}

const inUse = (e: unknown) => (e as { code?: unknown } | null)?.code === "EADDRINUSE";

/**
 * Binds a listen address for a moment, without SO_REUSEPORT: when something holds it, berth stops
 * here, before it opens the database or touches libvirt (a second berth must change nothing).
 */
function assertAddressFree(listen: string): void {
  const { hostname, port } = parseListen(listen);
  try {
    Bun.listen({ hostname, port, socket: { data() {} } }).stop(true);
  } catch (e) {
    if (inUse(e)) throw addressInUse(listen, e);
    throw e;
  }
}

export async function startBerth(config: Config, urls: WorkerUrls): Promise<RunningBerth> {
  for (const { address } of listenerPlan(config)) assertAddressFree(address);
  // sysadm served TLS only: its pair exists (configured, or made now) before anything is opened.
  if (config.sysadm.enabled) ensureSysadmTls(config);
  // [fleet] with etcd endpoints: this host joins (a single host has no fleet and nothing else to run); checked before anything opens.
  const fleet = await openFleet(config.fleet);
  const db = openDatabase(config.data_dir);
  if (!db.query("SELECT 1 FROM host_meta WHERE key = 'first_started'").get()) {
    setMeta(db, "first_started", new Date().toISOString());
  }
  setMeta(db, "hypervisor_uri", config.hypervisor.uri);
  const hv = openHypervisor(config, urls);
  const core = await buildCore(config, db, hv);
  if (fleet) core.fleet = fleet;
  const fleetWork = fleet ? startFleet(core, fleet) : null;
  const declared = syncDeclared(core);
  log.info("declared sizes and profiles applied", {
    sizes: declared.sizes.applied.length,
    profiles: declared.profiles.applied.length,
  });
  const reconciler = startReconciler(core);
  const stopAcls = startPvcAcls(core);
  // Pool members are created in a Worker of their own, on its own connection (a fleet's creates claim names
  // in etcd, through this thread's fleet handle, and an in-memory database has no second connection).
  const members = fleet || config.data_dir === ":memory:" ? null : new MemberWorker(core, urls);
  // Applies [[pools]] (ConfigError if broken), then keeps them filled.
  const pools = startPoolScheduler(core, members ? { create: members.create } : {});
  // Imports a crash interrupted are settled before the demo may import its image.
  whenUp(hv, () => recoverImports(core).finally(() => ensureDemo(core)));
  whenUp(hv, () => restoreDhcpHosts(core));
  // Form uploads a crash cut short (src/routes/form-body.ts) are removed before anything is served.
  await removeLeftoverUploads(stagingDir(config));
  // The request connection stops checkpointing before it serves: the Worker does it from here on.
  const checkpointer =
    config.data_dir === ":memory:"
      ? null
      : await startCheckpointer(db, join(config.data_dir, DB_FILE), urls.checkpointer);
  const apps = await listenAll(core).catch(async (e) => {
    await checkpointer?.stop();
    throw e;
  });
  const url = `http://${config.listen}`;
  log.info("berth serving", { url, hypervisor: config.hypervisor.uri, state: hv.state });

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
      // Leaving the fleet first: other hosts stop sending work here at once, not after the lease runs out.
      await fleetWork?.stop();
      stopAcls();
      await pools.stop();
      await members?.stop();
      await reconciler.stop();
      // Console sessions end first and tell their clients why; other connections get a grace, then are cut.
      await hv.consoles.close();
      await Promise.all(apps.map(stopServing));
      await hv.close();
      // Checkouts queued for a group commit are applied before the database closes.
      groupCommitOf(db).close();
      await checkpointer?.stop();
      db.close();
    },
  };
}
