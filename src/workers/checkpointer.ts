// The WAL checkpointer Worker: PASSIVE checkpoints on its own connection, TRUNCATE once the WAL passes its bound.
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import type { FromCheckpointer, ToCheckpointer } from "../db/checkpointer.ts";

declare const self: Worker;

let db: Database | null = null;
let timer: ReturnType<typeof setInterval> | null = null;

function walBytes(file: string): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0; // no WAL file yet (or already removed): nothing to bound
  }
}

function checkpoint(conn: Database, mode: "PASSIVE" | "TRUNCATE"): void {
  try {
    conn.run(`PRAGMA wal_checkpoint(${mode})`);
  } catch (e) {
    // A busy database is the next pass's to checkpoint; anything else is reported, and the next pass retries.
    const message = e instanceof Error ? e.message : String(e);
    if (!/busy|locked/i.test(message))
      self.postMessage({ kind: "error", message } satisfies FromCheckpointer);
  }
}

self.onmessage = (ev: MessageEvent<ToCheckpointer>) => {
  const msg = ev.data;
  if (msg.kind === "start") {
    const conn = new Database(msg.file, { readwrite: true, strict: true });
    // TRUNCATE waits for the writer; the HTTP thread's writes wait for it in turn, so both waits stay short.
    conn.run(`PRAGMA busy_timeout = ${Math.trunc(msg.busyTimeoutMs)}`);
    db = conn;
    timer = setInterval(() => {
      checkpoint(conn, "PASSIVE");
      if (walBytes(msg.file) > msg.truncateBytes) checkpoint(conn, "TRUNCATE");
    }, msg.intervalMs);
    self.postMessage({ kind: "started" } satisfies FromCheckpointer);
  } else if (msg.kind === "stop") {
    if (timer) clearInterval(timer);
    if (db) {
      checkpoint(db, "TRUNCATE");
      db.close();
    }
    db = null;
    self.postMessage({ kind: "stopped" } satisfies FromCheckpointer);
  }
};
