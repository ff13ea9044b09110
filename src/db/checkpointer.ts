// WAL checkpoints off the HTTP thread: the request connection never checkpoints, a Worker does it on its own connection.
import type { Database } from "bun:sqlite";
import { log } from "../log.ts";

export type ToCheckpointer =
  | { kind: "start"; file: string; intervalMs: number; truncateBytes: number; busyTimeoutMs: number }
  | { kind: "stop" };

export type FromCheckpointer = { kind: "started" } | { kind: "stopped" } | { kind: "error"; message: string };

export interface CheckpointerOptions {
  /** How often the Worker runs a PASSIVE checkpoint (it never waits for readers or the writer). */
  intervalMs?: number;
  /** Past this WAL size a TRUNCATE checkpoint runs (it waits for the writer, then empties the WAL). */
  truncateBytes?: number;
  /** The size the WAL file is cut back to whenever it restarts from its beginning (journal_size_limit). */
  walLimitBytes?: number;
}

export const CHECKPOINT_DEFAULTS = {
  intervalMs: 250,
  truncateBytes: 64 * 1024 * 1024,
  walLimitBytes: 16 * 1024 * 1024,
} as const;

/** SQLite's default: a checkpoint inside the commit that brings the WAL past 1000 pages. */
const AUTOCHECKPOINT_PAGES = 1000;

export interface Checkpointer {
  /** Stops the Worker (a last TRUNCATE checkpoint first) and gives the connection back its autocheckpoint. */
  stop(): Promise<void>;
}

/**
 * Turns off the automatic checkpoint of `db` (it would land inside about one commit in a hundred on the
 * request path) and starts the Worker at `workerUrl` that checkpoints `file` instead.
 */
export async function startCheckpointer(
  db: Database,
  file: string,
  workerUrl: string,
  opts: CheckpointerOptions = {},
): Promise<Checkpointer> {
  const o = { ...CHECKPOINT_DEFAULTS, ...opts };
  const worker = new Worker(workerUrl);
  const replies = new EventTarget();
  worker.onmessage = (ev: MessageEvent<FromCheckpointer>) => {
    if (ev.data.kind === "error") log.warn("WAL checkpoint failed", { error: ev.data.message });
    else replies.dispatchEvent(new Event(ev.data.kind));
  };
  const reply = (kind: "started" | "stopped", ms: number) =>
    new Promise<boolean>((ok) => {
      const timer = setTimeout(() => ok(false), ms);
      replies.addEventListener(
        kind,
        () => {
          clearTimeout(timer);
          ok(true);
        },
        { once: true },
      );
    });
  const started = reply("started", 10_000);
  worker.postMessage({
    kind: "start",
    file,
    intervalMs: o.intervalMs,
    truncateBytes: o.truncateBytes,
    busyTimeoutMs: 2000,
  } satisfies ToCheckpointer);
  if (!(await started)) {
    worker.terminate();
    throw new Error("the WAL checkpointer Worker did not start");
  }
  db.run("PRAGMA wal_autocheckpoint = 0");
  db.run(`PRAGMA journal_size_limit = ${Math.trunc(o.walLimitBytes)}`);
  let stopped: Promise<void> | null = null;
  return {
    stop() {
      stopped ??= (async () => {
        db.run(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
        const done = reply("stopped", 5_000);
        worker.postMessage({ kind: "stop" } satisfies ToCheckpointer);
        await done;
        worker.terminate();
      })();
      return stopped;
    },
  };
}
