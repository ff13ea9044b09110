// Console WebSockets for another host's VM: the fleet hook marks the handshake, the console route proxies it there.
import type { HostRecord } from "../core/fleet/members.ts";

const remote = new WeakMap<Request, HostRecord>();
/** The console's path: its WebSocket is proxied; any other upgrade for another host's VM is refused. */
export const CONSOLE_PATH = /^\/v1\/vms\/[^/]+\/console$/;

/** The console handshake `request` is for a VM `host` holds. */
export function markRemoteConsole(request: Request, host: HostRecord): void {
  remote.set(request, host);
}

/** The host holding the VM whose console `request` asks for, or null when it is this host's. */
export function remoteConsoleOf(request: Request): HostRecord | null {
  return remote.get(request) ?? null;
}
