// The public surface of the libvirt binding: typed handles and plain data, never a Pointer.

export {
  Connection,
  type DomainCapabilitiesQuery,
  type LifecycleMessage,
  libraryVersion,
  type NodeInfo,
} from "./connect.ts";
export * from "./constants.ts";
export {
  Domain,
  type DomainInfo,
  type InterfaceAddresses,
  isNoSuchDomain,
  type MigrateParams,
} from "./domain.ts";
export {
  allDomainStats,
  type DomainStatsRecord,
  DomainStatsTypes,
  GetAllDomainStatsFlags,
  type TypedValue,
} from "./domain-stats.ts";
export { ErrorCode, LibvirtError } from "./error.ts";
export { addLoopTimer, registerEventLoop, runEventLoopOnce } from "./events.ts";
export { type DhcpLease, Network } from "./network.ts";
export { setThreadNice } from "./priority.ts";
export { Secret } from "./secret.ts";
export { DomainSnapshot } from "./snapshot.ts";
export { StoragePool, type StoragePoolInfo } from "./storage-pool.ts";
export { StorageVol, type VolumeInfo } from "./storage-vol.ts";
export { ConsoleFlags, ConsoleStream, type StreamRead } from "./stream.ts";
export { sdNotify } from "./systemd.ts";
