// A hypervisor Worker: owns one libvirt connection and runs blocking calls off the HTTP thread.
import { CONSOLE_MESSAGES, type ToConsole } from "../core/hypervisor/console-protocol.ts";
import { ConsoleSessions } from "../core/hypervisor/console-worker.ts";
import { runOp } from "../core/hypervisor/ops/index.ts";
import type { FromWorker, ToWorker, WireError } from "../core/hypervisor/protocol.ts";
import { Connection, LibvirtError, registerEventLoop } from "../ffi/index.ts";

declare const self: Worker;

let uri = "";
let conn: Connection | null = null;

// The console Worker runs from this file too: its streams live on this Worker's connection.
const consoles = new ConsoleSessions(
  (m) => self.postMessage(m),
  (e) => toWire(e, "libvirt"),
);

function dropConnection(): void {
  consoles.endAll("the hypervisor connection was reset");
  try {
    conn?.close();
  } catch {
    // The connection is already dead; closing only releases our reference.
  }
  conn = null;
}

function connection(): Connection {
  if (conn && !conn.isAlive()) dropConnection();
  conn ??= Connection.open(uri);
  return conn;
}

function toWire(e: unknown, kind: WireError["kind"]): WireError {
  if (e instanceof LibvirtError) {
    return { kind, message: e.message, libvirtCode: e.libvirtCode, libvirtDomain: e.domain };
  }
  return { kind: "internal", message: e instanceof Error ? e.message : String(e) };
}

function reply(msg: FromWorker): void {
  self.postMessage(msg);
}

self.onmessage = (ev: MessageEvent<ToWorker | ToConsole>) => {
  const msg = ev.data;
  if (msg.type === "init") {
    uri = msg.uri;
    return;
  }
  if (CONSOLE_MESSAGES.has(msg.type)) {
    // Stream data is read off the socket by the event loop (the event pump), so the connection that
    // carries streams must be opened after the loop is registered (idempotent).
    registerEventLoop();
    consoles.handle(connection, dropConnection, msg as Exclude<ToConsole, { type: "init" }>);
    return;
  }
  if (msg.type === "reset") {
    dropConnection();
    return;
  }
  let c: Connection;
  if (msg.type !== "call") return;
  try {
    c = connection();
  } catch (e) {
    reply({ type: "result", id: msg.id, ok: false, error: toWire(e, "unavailable"), disconnected: true });
    return;
  }
  try {
    reply({ type: "result", id: msg.id, ok: true, value: runOp(c, msg.op, msg.args) });
  } catch (e) {
    // A failure caused by a dead daemon is reported as such, so the client fails fast until it is back.
    const dead = !c.isAlive();
    if (dead) dropConnection();
    reply({
      type: "result",
      id: msg.id,
      ok: false,
      error: toWire(e, dead ? "unavailable" : "libvirt"),
      disconnected: dead,
    });
  }
};
