// The services every core module works with, built once by the composition root.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/schema.ts";
import type { Hypervisor } from "./hypervisor/client.ts";

export interface Core {
  config: Config;
  db: Database;
  hv: Hypervisor;
  /** The domain type berth defines guests with: the setting, or what `auto` found. */
  domainType: () => "kvm" | "qemu" | "unknown";
}
