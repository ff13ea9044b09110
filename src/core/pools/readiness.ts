// Readiness checks of pending pool VMs: running (libvirt's state), ip (an address is known), tcp:PORT (a connect succeeds).
import { nicsOf, vmByName } from "../../db/vms.ts";
import type { Core } from "../context.ts";
import { primaryIpv4 } from "../vms/addresses.ts";
import { domainState } from "../vms/domain.ts";
import { vmStates } from "../vms/state-map.ts";
import type { ReadyCheck } from "./spec.ts";

const TCP_TIMEOUT_MS = 2000;

/** True when a TCP connection to host:port opens within the timeout; the socket is closed at once. */
export function tcpOpen(host: string, port: number, timeoutMs = TCP_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(s) {
          s.end();
          done(true);
        },
        data() {},
        error() {
          done(false);
        },
        connectError() {
          done(false);
        },
      },
    }).catch(() => done(false)); // refused or unreachable: simply not ready yet
  });
}

/**
 * libvirt's state of the VM's domain: the state map's while lifecycle events keep it current, so a refill's
 * pending VMs cost the HTTP thread no call each; asked of libvirt while the map is not loaded. A map that
 * lags (the start's event not here yet) only defers readiness: that event asks for the next pass.
 */
function currentState(core: Core, vmName: string) {
  const map = vmStates(core.hv);
  return map.loaded ? (map.get(vmName) ?? null) : domainState(core, vmName);
}

/** Whether the VM passes the pool's readiness check now. */
export async function isReady(core: Core, vmName: string, check: ReadyCheck): Promise<boolean> {
  const state = await currentState(core, vmName);
  if (state !== "running") return false;
  if (check.kind === "running") return true;
  const row = vmByName(core.db, vmName);
  if (!row) return false;
  const ip = await primaryIpv4(core, { name: vmName, state, nics: nicsOf(core.db, row.id) });
  if (ip === null) return false;
  return check.kind === "ip" ? true : tcpOpen(ip, check.port);
}
