// A console session on another host's VM: a WebSocket to that host, signed as the caller, its frames passed both ways.
import { AppError } from "../../errors.ts";
import type { Caller } from "../auth/caller.ts";
import type { ConsoleHandlers, ConsoleSession } from "../hypervisor/console-hub.ts";
import { HostUnreachable } from "./errors.ts";
import type { Fleet } from "./fleet.ts";
import { fleetHeaders } from "./forward.ts";
import type { HostRecord } from "./members.ts";

/** How long the other host may take to accept the console (its own checks, then the upgrade). */
const OPEN_TIMEOUT_MS = 10_000;
const CLOSE_NORMAL = 1000;
/** The status of a refused handshake, as Bun's client reports it ("Expected 101 status code: 409"). */
const REFUSED_STATUS = /status code: ([0-9]{3})/;
const CODES: Record<number, string> = {
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
};

/**
 * Opens the console of `vm` on `host` for `caller` (path: the request's path and query, e.g.
 * `/v1/vms/web/console?force=1`). The other host checks the caller's rights; its refusal before the
 * upgrade comes back with its status (401, 403, 404, 409), an unreachable host as 503.
 */
export function attachRemoteConsole(
  fleet: Fleet,
  host: HostRecord,
  vm: string,
  path: string,
  caller: Caller | null,
  handlers: ConsoleHandlers,
): Promise<ConsoleSession> {
  const url = new URL(path, host.api);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  // Bun's client takes handshake headers; the signature stands in for the caller's token, which stays here.
  const ws = new WebSocket(url.href, {
    headers: fleetHeaders(fleet, "GET", path, caller),
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    let opened = false;
    let closedHere = false;
    const timer = setTimeout(() => {
      ws.close();
      reject(new HostUnreachable(`host ${host.name} did not open the console of vm ${vm}`));
    }, OPEN_TIMEOUT_MS);
    ws.addEventListener("open", () => {
      opened = true;
      clearTimeout(timer);
      resolve({
        vm,
        write: (bytes) => ws.send(bytes),
        close: () => {
          closedHere = true;
          ws.close(CLOSE_NORMAL, "the client left");
        },
      });
    });
    ws.addEventListener("message", (e) => {
      if (e.data instanceof ArrayBuffer) handlers.data(new Uint8Array(e.data));
    });
    ws.addEventListener("error", (e) => {
      if (opened) return;
      clearTimeout(timer);
      const status = Number(REFUSED_STATUS.exec((e as ErrorEvent).message ?? "")?.[1] ?? 0);
      reject(
        CODES[status]
          ? new AppError(
              status,
              CODES[status],
              `host ${host.name} refused the console of vm ${vm} (${status})`,
            )
          : new HostUnreachable(`host ${host.name} (${host.api}) did not open the console of vm ${vm}`),
      );
    });
    ws.addEventListener("close", (e) => {
      if (opened && !closedHere) handlers.end(e.reason || `the console on host ${host.name} closed`);
    });
  });
}
