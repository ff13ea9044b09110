// The event pump Worker: runs libvirt's event loop on its own thread and forwards lifecycle events.
// libvirt's default event loop is one per process, so one pump serves every hypervisor client of the process,
// each with its own connection (a second pump thread would dispatch the first one's callbacks).
import type { FromPump, ToPump } from "../core/hypervisor/protocol.ts";
import { addLoopTimer, Connection, registerEventLoop, runEventLoopOnce } from "../ffi/index.ts";

declare const self: Worker;

// The default event implementation must exist before the connection that wants events is opened.
registerEventLoop();
// Makes runEventLoopOnce return at least every 200 ms so this thread still reads its messages.
const tick = addLoopTimer(200, () => {});

const CLOSE_REASONS = ["error", "eof", "keepalive", "client"];

interface Link {
  conn: Connection;
  subs: Disposable[];
}

const links = new Map<number, Link>();
let running = true;

function post(msg: FromPump): void {
  self.postMessage(msg);
}

function disconnect(client: number): void {
  const link = links.get(client);
  if (!link) return;
  links.delete(client);
  for (const s of link.subs) s[Symbol.dispose]();
  try {
    link.conn.close();
  } catch {
    // Already closed by the daemon going away; only our reference is left to drop.
  }
}

function connect(client: number, uri: string): void {
  disconnect(client);
  let conn: Connection | null = null;
  try {
    conn = Connection.open(uri);
    const c = conn;
    // Keepalive turns a silently hung daemon into a close event (5 s interval, 3 misses).
    try {
      c.setKeepAlive(5, 3);
    } catch {
      // Drivers without keepalive (the test driver) still deliver events.
    }
    const link: Link = { conn: c, subs: [] };
    links.set(client, link);
    link.subs.push(
      c.onClose((reason) => {
        post({ client, type: "closed", reason: CLOSE_REASONS[reason] ?? "unknown" });
        // Never close the connection from inside its own callback; a newer connect may have replaced it.
        setTimeout(() => {
          if (links.get(client) === link) disconnect(client);
        }, 0);
      }),
      c.onDomainLifecycle((m) => post({ client, type: "lifecycle", ...m })),
    );
    post({ client, type: "connected" });
  } catch (e) {
    if (links.has(client)) disconnect(client);
    else {
      try {
        conn?.close();
      } catch {
        // The failed connection is dropped either way.
      }
    }
    post({ client, type: "closed", reason: e instanceof Error ? e.message : String(e) });
  }
}

function pump(): void {
  if (!running) return;
  try {
    runEventLoopOnce();
  } catch (e) {
    for (const client of links.keys()) {
      post({ client, type: "closed", reason: `event loop failed: ${(e as Error).message}` });
    }
  }
  setImmediate(pump);
}

self.onmessage = (ev: MessageEvent<ToPump>) => {
  const msg = ev.data;
  if (msg.type === "connect") connect(msg.client, msg.uri);
  else if (msg.type === "disconnect") disconnect(msg.client);
  else {
    running = false;
    for (const client of [...links.keys()]) disconnect(client);
    tick[Symbol.dispose]();
  }
};

pump();
