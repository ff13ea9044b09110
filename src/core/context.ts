// The services every core module works with, built once by the composition root.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/schema.ts";
import type { EventBus } from "./events.ts";
import type { Fleet } from "./fleet/fleet.ts";
import type { Hypervisor } from "./hypervisor/client.ts";
import type { Locks } from "./locks.ts";
import type { Operations } from "./operations.ts";

export interface Core {
  config: Config;
  db: Database;
  hv: Hypervisor;
  events: EventBus;
  locks: Locks;
  ops: Operations;
  /** The domain type berth defines guests with: the setting, or what `auto` found. */
  domainType: () => "kvm" | "qemu" | "unknown";
  /** This host's fleet ([fleet] etcd set); absent on a single host. */
  fleet?: Fleet;
}
