// Loads libvirt.so.0 and libc once per thread and declares every C symbol berth calls.
import { dlopen, FFIType, type Pointer } from "bun:ffi";

const { ptr, i32, u32, u64, void: none } = FFIType;

// Every function that returns memory the caller must free is declared `ptr`, never `cstring`
// (a `cstring` return is copied and the original leaked); see takeString in strings.ts.
const libvirtSymbols = {
  // errors
  virGetLastError: { args: [], returns: ptr },
  virResetLastError: { args: [], returns: none },
  virSetErrorFunc: { args: [ptr, ptr], returns: none },
  virGetVersion: { args: [ptr, ptr, ptr], returns: i32 },
  // connection
  virConnectOpen: { args: [ptr], returns: ptr },
  virConnectClose: { args: [ptr], returns: i32 },
  virConnectIsAlive: { args: [ptr], returns: i32 },
  virConnectSetKeepAlive: { args: [ptr, i32, u32], returns: i32 },
  virConnectRegisterCloseCallback: { args: [ptr, ptr, ptr, ptr], returns: i32 },
  virConnectUnregisterCloseCallback: { args: [ptr, ptr], returns: i32 },
  virConnectGetLibVersion: { args: [ptr, ptr], returns: i32 },
  virConnectGetVersion: { args: [ptr, ptr], returns: i32 },
  virConnectGetURI: { args: [ptr], returns: ptr },
  virConnectGetHostname: { args: [ptr], returns: ptr },
  virConnectGetCapabilities: { args: [ptr], returns: ptr },
  virConnectGetDomainCapabilities: { args: [ptr, ptr, ptr, ptr, ptr, u32], returns: ptr },
  virNodeGetInfo: { args: [ptr, ptr], returns: i32 },
  // domains
  virConnectListAllDomains: { args: [ptr, ptr, u32], returns: i32 },
  virDomainLookupByName: { args: [ptr, ptr], returns: ptr },
  virDomainLookupByUUIDString: { args: [ptr, ptr], returns: ptr },
  virDomainDefineXMLFlags: { args: [ptr, ptr, u32], returns: ptr },
  virDomainUndefineFlags: { args: [ptr, u32], returns: i32 },
  virDomainMigrateToURI3: { args: [ptr, ptr, ptr, u32, u32], returns: i32 },
  virDomainGetJobInfo: { args: [ptr, ptr], returns: i32 },
  virTypedParamsAddString: { args: [ptr, ptr, ptr, ptr, ptr], returns: i32 },
  virTypedParamsAddULLong: { args: [ptr, ptr, ptr, ptr, u64], returns: i32 },
  virTypedParamsFree: { args: [ptr, i32], returns: none },
  virDomainCreateWithFlags: { args: [ptr, u32], returns: i32 },
  virDomainDestroyFlags: { args: [ptr, u32], returns: i32 },
  virDomainShutdownFlags: { args: [ptr, u32], returns: i32 },
  virDomainReboot: { args: [ptr, u32], returns: i32 },
  virDomainReset: { args: [ptr, u32], returns: i32 },
  virDomainSuspend: { args: [ptr], returns: i32 },
  virDomainResume: { args: [ptr], returns: i32 },
  virDomainManagedSave: { args: [ptr, u32], returns: i32 },
  virDomainHasManagedSaveImage: { args: [ptr, u32], returns: i32 },
  virDomainManagedSaveRemove: { args: [ptr, u32], returns: i32 },
  virDomainGetState: { args: [ptr, ptr, ptr, u32], returns: i32 },
  virDomainGetInfo: { args: [ptr, ptr], returns: i32 },
  virDomainGetXMLDesc: { args: [ptr, u32], returns: ptr },
  virDomainGetName: { args: [ptr], returns: ptr },
  virDomainGetUUIDString: { args: [ptr, ptr], returns: i32 },
  virDomainGetID: { args: [ptr], returns: u32 },
  virDomainIsActive: { args: [ptr], returns: i32 },
  virDomainIsPersistent: { args: [ptr], returns: i32 },
  virDomainSetAutostart: { args: [ptr, i32], returns: i32 },
  virDomainGetMetadata: { args: [ptr, i32, ptr, u32], returns: ptr },
  virDomainSetMetadata: { args: [ptr, i32, ptr, ptr, ptr, u32], returns: i32 },
  virDomainAttachDeviceFlags: { args: [ptr, ptr, u32], returns: i32 },
  virDomainDetachDeviceFlags: { args: [ptr, ptr, u32], returns: i32 },
  virDomainUpdateDeviceFlags: { args: [ptr, ptr, u32], returns: i32 },
  virDomainBlockResize: { args: [ptr, ptr, u64, u32], returns: i32 },
  virDomainInterfaceAddresses: { args: [ptr, ptr, u32, u32], returns: i32 },
  virDomainInterfaceFree: { args: [ptr], returns: none },
  virDomainFree: { args: [ptr], returns: i32 },
  virDomainRef: { args: [ptr], returns: i32 },
  virConnectGetAllDomainStats: { args: [ptr, u32, ptr, u32], returns: i32 },
  virDomainStatsRecordListFree: { args: [ptr], returns: none },
  virDomainOpenConsole: { args: [ptr, ptr, ptr, u32], returns: i32 },
  // streams
  virStreamNew: { args: [ptr, u32], returns: ptr },
  virStreamRecv: { args: [ptr, ptr, u64], returns: i32 },
  virStreamSend: { args: [ptr, ptr, u64], returns: i32 },
  virStreamFinish: { args: [ptr], returns: i32 },
  virStreamAbort: { args: [ptr], returns: i32 },
  virStreamFree: { args: [ptr], returns: i32 },
  // snapshots
  virDomainSnapshotCreateXML: { args: [ptr, ptr, u32], returns: ptr },
  virDomainListAllSnapshots: { args: [ptr, ptr, u32], returns: i32 },
  virDomainSnapshotLookupByName: { args: [ptr, ptr, u32], returns: ptr },
  virDomainRevertToSnapshot: { args: [ptr, u32], returns: i32 },
  virDomainSnapshotDelete: { args: [ptr, u32], returns: i32 },
  virDomainSnapshotGetXMLDesc: { args: [ptr, u32], returns: ptr },
  virDomainSnapshotGetName: { args: [ptr], returns: ptr },
  virDomainSnapshotFree: { args: [ptr], returns: i32 },
  // networks
  virConnectListAllNetworks: { args: [ptr, ptr, u32], returns: i32 },
  virNetworkLookupByName: { args: [ptr, ptr], returns: ptr },
  virNetworkDefineXML: { args: [ptr, ptr], returns: ptr },
  virNetworkUndefine: { args: [ptr], returns: i32 },
  virNetworkCreate: { args: [ptr], returns: i32 },
  virNetworkDestroy: { args: [ptr], returns: i32 },
  virNetworkSetAutostart: { args: [ptr, i32], returns: i32 },
  virNetworkGetAutostart: { args: [ptr, ptr], returns: i32 },
  virNetworkIsActive: { args: [ptr], returns: i32 },
  virNetworkIsPersistent: { args: [ptr], returns: i32 },
  virNetworkGetXMLDesc: { args: [ptr, u32], returns: ptr },
  virNetworkGetName: { args: [ptr], returns: ptr },
  virNetworkGetDHCPLeases: { args: [ptr, ptr, ptr, u32], returns: i32 },
  virNetworkDHCPLeaseFree: { args: [ptr], returns: none },
  virNetworkUpdate: { args: [ptr, u32, u32, i32, ptr, u32], returns: i32 },
  virNetworkFree: { args: [ptr], returns: i32 },
  // storage pools
  virConnectListAllStoragePools: { args: [ptr, ptr, u32], returns: i32 },
  virStoragePoolLookupByName: { args: [ptr, ptr], returns: ptr },
  virStoragePoolDefineXML: { args: [ptr, ptr, u32], returns: ptr },
  virStoragePoolBuild: { args: [ptr, u32], returns: i32 },
  virStoragePoolCreate: { args: [ptr, u32], returns: i32 },
  virStoragePoolDestroy: { args: [ptr], returns: i32 },
  virStoragePoolUndefine: { args: [ptr], returns: i32 },
  virStoragePoolSetAutostart: { args: [ptr, i32], returns: i32 },
  virStoragePoolRefresh: { args: [ptr, u32], returns: i32 },
  virStoragePoolIsActive: { args: [ptr], returns: i32 },
  virStoragePoolGetXMLDesc: { args: [ptr, u32], returns: ptr },
  virStoragePoolGetName: { args: [ptr], returns: ptr },
  virStoragePoolGetInfo: { args: [ptr, ptr], returns: i32 },
  virStoragePoolListAllVolumes: { args: [ptr, ptr, u32], returns: i32 },
  virStoragePoolFree: { args: [ptr], returns: i32 },
  // storage volumes
  virStorageVolLookupByName: { args: [ptr, ptr], returns: ptr },
  virStorageVolLookupByPath: { args: [ptr, ptr], returns: ptr },
  virStorageVolCreateXML: { args: [ptr, ptr, u32], returns: ptr },
  virStorageVolCreateXMLFrom: { args: [ptr, ptr, ptr, u32], returns: ptr },
  virStorageVolDelete: { args: [ptr, u32], returns: i32 },
  virStorageVolResize: { args: [ptr, u64, u32], returns: i32 },
  virStorageVolGetInfo: { args: [ptr, ptr], returns: i32 },
  virStorageVolGetPath: { args: [ptr], returns: ptr },
  virStorageVolGetName: { args: [ptr], returns: ptr },
  virStorageVolGetXMLDesc: { args: [ptr, u32], returns: ptr },
  virStorageVolFree: { args: [ptr], returns: i32 },
  // secrets (the cephx key of an rbd storage backend)
  virSecretDefineXML: { args: [ptr, ptr, u32], returns: ptr },
  virSecretLookupByUUIDString: { args: [ptr, ptr], returns: ptr },
  virSecretSetValue: { args: [ptr, ptr, u64, u32], returns: i32 },
  virSecretFree: { args: [ptr], returns: i32 },
  // events
  virEventRegisterDefaultImpl: { args: [], returns: i32 },
  virEventRunDefaultImpl: { args: [], returns: i32 },
  virEventAddTimeout: { args: [i32, ptr, ptr, ptr], returns: i32 },
  virEventRemoveTimeout: { args: [i32], returns: i32 },
  virConnectDomainEventRegisterAny: { args: [ptr, ptr, i32, ptr, ptr, ptr], returns: i32 },
  virConnectDomainEventDeregisterAny: { args: [ptr, i32], returns: i32 },
} as const;

const libcSymbols = {
  free: { args: [ptr], returns: none },
  dlsym: { args: [ptr, ptr], returns: ptr },
} as const;

function openLibvirt() {
  try {
    return dlopen("libvirt.so.0", libvirtSymbols);
  } catch (cause) {
    throw new Error("cannot load libvirt.so.0: install the libvirt0 package", { cause });
  }
}

const libvirt = openLibvirt();
const libc = dlopen("libc.so.6", libcSymbols);

export const sym = libvirt.symbols;
export const freeMem = (p: Pointer): void => libc.symbols.free(p);

/** C address of libc `free`, a handler that ignores its arguments when the first is NULL. */
const cFree = libc.symbols.dlsym(null, Buffer.from("free\0"));

// libvirt prints every error to stderr unless a handler is set; a JSCallback handler hangs
// Workers, so install C `free` (called as free(NULL, err): a no-op) on every thread that loads us.
sym.virSetErrorFunc(null, cFree);
