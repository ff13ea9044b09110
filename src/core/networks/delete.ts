// Deleting a network: refused while a VM or profile uses it; stop, undefine, forget, and maybe drop the bridge.
import {
  deleteNetworkRow,
  getNetworkRow,
  networksOnBridge,
  passBridgeOwnership,
  vmsOnNetwork,
} from "../../db/networks.ts";
import { profilesUsingNetwork } from "../../db/profiles.ts";
import { Conflict, NotFound } from "../../errors.ts";
import { ErrorCode } from "../../ffi/error.ts";
import { log } from "../../log.ts";
import { type Caller, requireAdmin } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { bridgePorts, removeBridge } from "../ovs.ts";
import { isLibvirt } from "../storage-pool.ts";
import { withContext } from "./create.ts";
import { serialize } from "./serial.ts";

/** Ignores libvirt's "no such network" (someone removed it already); anything else fails the delete. */
async function unlessGone(what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (isLibvirt(e, ErrorCode.NO_NETWORK)) {
      log.info(`${what}: the libvirt network was already gone`);
      return;
    }
    throw withContext(what, e);
  }
}

/** Removes a bridge berth created once no network and no port is left on it; a failure only warns. */
async function releaseBridge(bridge: string, network: string): Promise<void> {
  try {
    const ports = await bridgePorts(bridge);
    if (ports.length > 0) {
      log.warn("keeping OVS bridge berth created: it still has ports", { bridge, network, ports });
      return;
    }
    await removeBridge(bridge);
  } catch (e) {
    log.warn("could not remove OVS bridge berth created", {
      bridge,
      network,
      error: e instanceof Error ? e.message : String(e),
    });
  }
}

export function deleteNetwork(core: Core, caller: Caller | null, name: string): Promise<void> {
  requireAdmin(core, caller, "delete networks");
  return serialize(core.db, async () => {
    const row = getNetworkRow(core.db, name);
    if (!row) throw new NotFound(`network ${name} does not exist`);
    const vms = vmsOnNetwork(core.db, name);
    if (vms.length > 0) throw new Conflict(`network ${name} is used by vm ${vms.join(", ")}`);
    const profiles = profilesUsingNetwork(core.db, name);
    if (profiles.length > 0) throw new Conflict(`network ${name} is used by profile ${profiles.join(", ")}`);

    const state = (await core.hv.call("network.list", {})).find((n) => n.name === name);
    if (state?.active)
      await unlessGone(`network ${name}: stopping`, () => core.hv.call("network.destroy", { name }));
    if (state)
      await unlessGone(`network ${name}: undefining`, () => core.hv.call("network.undefine", { name }));

    const others = row.kind === "ovs" ? networksOnBridge(core.db, row.bridge, name) : [];
    const [heir] = others;
    core.db.transaction(() => {
      deleteNetworkRow(core.db, name);
      if (row.owns_bridge && heir) passBridgeOwnership(core.db, heir);
    })();
    if (row.owns_bridge && !heir && core.config.network.manage_bridges) await releaseBridge(row.bridge, name);
    core.events.publish("network.deleted", `network/${name}`, { kind: row.kind, bridge: row.bridge });
  });
}
