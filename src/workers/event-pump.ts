// The event pump Worker: runs libvirt's event loop on its own thread and forwards lifecycle events.
import type { FromPump, ToPump } from "../core/hypervisor/protocol.ts";
import { addLoopTimer, Connection, registerEventLoop, runEventLoopOnce } from "../ffi/index.ts";

declare const self: Worker;

// The default event implementation must exist before the connection that wants events is opened.
registerEventLoop();
// Makes runEventLoopOnce return at least every 200 ms so this thread still reads its messages.
const tick = addLoopTimer(200, () => {});

const CLOSE_REASONS = ["error", "eof", "keepalive", "client"];

let conn: Connection | null = null;
let subs: Disposable[] = [];
let running = true;

function post(msg: FromPump): void {
  self.postMessage(msg);
}

function disconnect(): void {
  for (const s of subs) s[Symbol.dispose]();
  subs = [];
  try {
    conn?.close();
  } catch {
    // Already closed by the daemon going away; only our reference is left to drop.
  }
  conn = null;
}

function connect(uri: string): void {
  disconnect();
  try {
    conn = Connection.open(uri);
    const c = conn;
    // Keepalive turns a silently hung daemon into a close event (5 s interval, 3 misses).
    try {
      c.setKeepAlive(5, 3);
    } catch {
      // Drivers without keepalive (the test driver) still deliver events.
    }
    subs.push(
      c.onClose((reason) => {
        post({ type: "closed", reason: CLOSE_REASONS[reason] ?? "unknown" });
        setTimeout(disconnect, 0); // never close the connection from inside its own callback
      }),
      c.onDomainLifecycle((m) => post({ type: "lifecycle", ...m })),
    );
    post({ type: "connected" });
  } catch (e) {
    disconnect();
    post({ type: "closed", reason: e instanceof Error ? e.message : String(e) });
  }
}

function pump(): void {
  if (!running) return;
  try {
    runEventLoopOnce();
  } catch (e) {
    post({ type: "closed", reason: `event loop failed: ${(e as Error).message}` });
  }
  setImmediate(pump);
}

self.onmessage = (ev: MessageEvent<ToPump>) => {
  const msg = ev.data;
  if (msg.type === "connect") connect(msg.uri);
  else {
    running = false;
    disconnect();
    tick[Symbol.dispose]();
  }
};

pump();
