// The core a pool's members are created with in their Worker: its own connection, hypervisor client and operations.
import type { Config } from "../../config/schema.ts";
import { groupCommitOf } from "../../db/group-commit.ts";
import { openDatabase } from "../../db/open.ts";
import { watchHostSize } from "../capacity.ts";
import type { Core } from "../context.ts";
import { EventBus } from "../events.ts";
import { watchDomainType } from "../host.ts";
import { openHypervisor } from "../hypervisor/open.ts";
import { Locks } from "../locks.ts";
import { Operations } from "../operations.ts";

/** How long a stop waits for the creates it cut short to record their ends (seconds). */
const STOP_SETTLE_S = 5;

export interface MemberCore {
  core: Core;
  /** Ends the creates under way (their steps undo what they can; reconcile finishes the rest) and closes. */
  close(): Promise<void>;
}

/**
 * Opens the database the HTTP thread opened (already migrated) and a hypervisor client of its own (no event
 * pump: the HTTP thread hears libvirt's events). Every event its work publishes goes to `relay`. Operations
 * still running in the database are the HTTP thread's: nothing here marks them interrupted.
 */
export async function openMemberCore(
  config: Config,
  hypervisorUrl: string,
  relay: (type: string, target: string, data: Record<string, unknown>) => void,
): Promise<MemberCore> {
  const db = openDatabase(config.data_dir);
  const hv = openHypervisor(config, { hypervisor: hypervisorUrl });
  const events = new EventBus(0);
  events.subscribe((e) => relay(e.type, e.target, e.data));
  const locks = new Locks();
  const ops = new Operations(db, events, locks);
  await hv.start();
  const domainType = await watchDomainType(hv, config.hypervisor.domain_type);
  const core: Core = { config, db, hv, events, locks, ops, domainType };
  await watchHostSize(core);
  return {
    core,
    async close() {
      await hv.close(); // the creates' calls fail now, and their undos run
      await Promise.all(ops.running().map((id) => ops.wait(id, STOP_SETTLE_S)));
      groupCommitOf(db).close();
      db.close();
    },
  };
}
