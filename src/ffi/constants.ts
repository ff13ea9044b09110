// libvirt enum values and flag bits berth uses, with names for the ones berth reports.

export const DOMAIN_STATES = [
  "nostate",
  "running",
  "blocked",
  "paused",
  "shutdown",
  "shutoff",
  "crashed",
  "pmsuspended",
] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];

export function domainStateName(n: number): DomainState {
  return DOMAIN_STATES[n] ?? "nostate";
}

/** virConnectListAllDomainsFlags that select by state: listing by them reads every state in a few calls. */
export const ListDomains = {
  RUNNING: 16,
  PAUSED: 32,
  SHUTOFF: 64,
} as const;

/** virDomainEventType, indexed by the `event` argument of a lifecycle callback. */
export const LIFECYCLE_EVENTS = [
  "defined",
  "undefined",
  "started",
  "suspended",
  "resumed",
  "stopped",
  "shutdown",
  "pmsuspended",
  "crashed",
] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

export const DomainXmlFlags = { SECURE: 1, INACTIVE: 2, UPDATE_CPU: 4, MIGRATABLE: 8 } as const;
export const DomainDefineFlags = { VALIDATE: 1 } as const;
export const DomainUndefineFlags = {
  MANAGED_SAVE: 1,
  SNAPSHOTS_METADATA: 2,
  NVRAM: 4,
  KEEP_NVRAM: 8,
  CHECKPOINTS_METADATA: 16,
} as const;
/** virDomainModificationImpact: which definition a device or metadata change applies to. */
export const Affect = { CURRENT: 0, LIVE: 1, CONFIG: 2 } as const;
export const DomainDestroyFlags = { DEFAULT: 0, GRACEFUL: 1 } as const;
export const BlockResizeFlags = { BYTES: 1 } as const;
export const MetadataType = { DESCRIPTION: 0, TITLE: 1, ELEMENT: 2 } as const;
export const AddressSource = { lease: 0, agent: 1, arp: 2 } as const;
export type AddressSourceName = keyof typeof AddressSource;

export const SnapshotCreateFlags = {
  REDEFINE: 1,
  CURRENT: 2,
  NO_METADATA: 4,
  HALT: 8,
  DISK_ONLY: 16,
  REUSE_EXT: 32,
  QUIESCE: 64,
  ATOMIC: 128,
  LIVE: 256,
} as const;
export const SnapshotDeleteFlags = { CHILDREN: 1, METADATA_ONLY: 2, CHILDREN_ONLY: 4 } as const;
export const SnapshotRevertFlags = { RUNNING: 1, PAUSED: 2, FORCE: 4 } as const;

export const StoragePoolBuildFlags = { NEW: 0, REPAIR: 1, RESIZE: 2, NO_OVERWRITE: 4, OVERWRITE: 8 } as const;
export const VolCreateFlags = { PREALLOC_METADATA: 1, REFLINK: 2, VALIDATE: 4 } as const;
export const VolResizeFlags = { ALLOCATE: 1, DELTA: 2, SHRINK: 4 } as const;
export const VOL_TYPES = ["file", "block", "dir", "network", "netdir", "ploop"] as const;

export const DOMAIN_EVENT_ID_LIFECYCLE = 0;

/** libvirt encodes versions as major * 1e6 + minor * 1e3 + release. */
export function formatVersion(v: number): string {
  return `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;
}

/** virNetworkUpdateCommand. */
export const NetworkUpdateCommand = { MODIFY: 1, DELETE: 2, ADD_LAST: 3, ADD_FIRST: 4 } as const;
/** virNetworkUpdateSection (the ones berth changes). */
export const NetworkUpdateSection = { IP_DHCP_HOST: 4 } as const;
/** virNetworkUpdateFlags: the running network, its persistent definition. */
export const NetworkUpdateFlags = { AFFECT_LIVE: 1, AFFECT_CONFIG: 2 } as const;

/** virDomainMigrateFlags berth uses: live, peer to peer, persistent on the destination, undefined on the source, disks copied. */
export const MigrateFlags = {
  LIVE: 1,
  PEER2PEER: 2,
  PERSIST_DEST: 8,
  UNDEFINE_SOURCE: 16,
  NON_SHARED_DISK: 64,
  /** VIR_MIGRATE_TLS (1 << 16): QEMU's migration (and NBD disk copy) stream over TLS with qemu.conf's migration certificates. */
  TLS: 65536,
} as const;
