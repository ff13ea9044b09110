// PVC's DHCP view of a managed network: libvirt's active leases and berth's static reservations, in PVC's shape and words.
import { AppError, BadRequest, Conflict, NotFound } from "../../errors.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { addDhcpHost, listDhcpHosts, listLeases, removeDhcpHost } from "../networks/index.ts";
import { pvcLimitMatcher } from "./pvc-limit.ts";
import { pvcNetworkOrFail } from "./pvc-networks.ts";

/** PVC's lease object: `timestamp` is the expiry (epoch seconds) or "static" for a reservation. */
export interface PvcLease {
  hostname: string;
  ip4_address: string;
  mac_address: string;
  timestamp: string;
}

const MAC_RE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

function checkPvcMac(mac: string): string {
  if (!MAC_RE.test(mac))
    throw new BadRequest(`MAC address "${mac}" is not valid! Always use ':' as a separator.`);
  return mac.toLowerCase();
}

function managed(core: Core, ref: string) {
  const row = pvcNetworkOrFail(core, ref);
  if (row.kind !== "nat") {
    throw new Conflict(
      `network "${ref}" is bridged: its DHCP is outside berth (berth serves DHCP on managed networks)`,
    );
  }
  return row;
}

/** GET /network/<net>/dhcp[?limit=&flag_static] and /dhcp/<mac> (`exact`): leases, then reservations. */
export async function listPvcLeases(
  core: Core,
  caller: Caller | null,
  ref: string,
  opts: { limit?: string | undefined; staticOnly: boolean; exact?: string | undefined },
): Promise<PvcLease[]> {
  const net = managed(core, ref);
  const match = pvcLimitMatcher(opts.limit);
  const exact = opts.exact?.toLowerCase();
  const statics: PvcLease[] = listDhcpHosts(core, caller, net.name).map((h) => ({
    hostname: h.hostname ?? "",
    ip4_address: h.ip,
    mac_address: h.mac,
    timestamp: "static",
  }));
  const active: PvcLease[] = opts.staticOnly
    ? []
    : (await listLeases(core, caller, net.name))
        .filter((l) => l.type === "ipv4")
        .map((l) => ({
          hostname: l.hostname,
          ip4_address: l.ipAddress,
          mac_address: l.mac.toLowerCase(),
          timestamp: String(l.expiryTime),
        }));
  return [...active, ...statics].filter(
    (l) => (exact === undefined || l.mac_address === exact) && match(l.mac_address),
  );
}

export async function addPvcReservation(
  core: Core,
  caller: Caller | null,
  ref: string,
  mac: string,
  values: { ipaddress: string; hostname?: string | undefined },
): Promise<string> {
  const net = managed(core, ref);
  const m = checkPvcMac(mac);
  if (listDhcpHosts(core, caller, net.name).some((h) => h.mac === m)) {
    throw new Conflict(`A reservation with MAC "${mac}" already exists!`);
  }
  await addDhcpHost(core, caller, net.name, { mac: m, ip: values.ipaddress, hostname: values.hostname });
  return `DHCP reservation '${mac}' added successfully!`;
}

export async function removePvcReservation(
  core: Core,
  caller: Caller | null,
  ref: string,
  mac: string,
): Promise<string> {
  const net = managed(core, ref);
  try {
    await removeDhcpHost(core, caller, net.name, checkPvcMac(mac));
  } catch (e) {
    if (
      e instanceof NotFound ||
      (e instanceof AppError && e.errorCode === "invalid_request" && !MAC_RE.test(mac))
    ) {
      throw new NotFound(`No DHCP reservation exists matching "${mac}"!`, { cause: e });
    }
    throw e;
  }
  return `DHCP reservation '${mac}' removed successfully!`;
}
