// PVC's network remove: the berth network with its reservations and ACL rows, then its chains leave nftables.
import { listAcls } from "../../db/pvc-acls.ts";
import type { Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { deleteNetwork } from "../networks/index.ts";
import { applyPvcAcls } from "./pvc-acls.ts";
import { pvcNetworkOrFail } from "./pvc-networks.ts";

export async function removePvcNetwork(core: Core, caller: Caller | null, ref: string): Promise<string> {
  const row = pvcNetworkOrFail(core, ref);
  const hadAcls = listAcls(core.db, row.name).length > 0;
  await deleteNetwork(core, caller, row.name);
  if (hadAcls) await applyPvcAcls(core);
  return `Network '${ref}' removed successfully!`;
}
