// The libvirt side of a VM: its live state, and removing its domain with everything libvirt keeps for it.

import type { DomainState } from "../../ffi/constants.ts";
import { DomainUndefineFlags } from "../../ffi/constants.ts";
import { ErrorCode } from "../../ffi/error.ts";
import type { Core } from "../context.ts";
import { isLibvirt } from "../storage-pool.ts";

/** The domain's state, or null when libvirt has no such domain. */
export async function domainState(core: Core, name: string): Promise<DomainState | null> {
  try {
    return (await core.hv.call("domain.info", { name })).state;
  } catch (e) {
    if (isLibvirt(e, ErrorCode.NO_DOMAIN)) return null;
    throw e;
  }
}

const UNDEFINE_ALL =
  DomainUndefineFlags.MANAGED_SAVE | DomainUndefineFlags.SNAPSHOTS_METADATA | DomainUndefineFlags.NVRAM;

/** Stops (hard) if running, then undefines with its managed save, snapshot metadata and NVRAM. */
export async function removeDomain(core: Core, name: string): Promise<void> {
  const state = await domainState(core, name);
  if (state === null) return;
  if (state !== "shutoff") {
    try {
      await core.hv.call("domain.destroy", { name });
    } catch (e) {
      if (!isLibvirt(e, ErrorCode.OPERATION_INVALID)) throw e; // stopped meanwhile
    }
  }
  try {
    await core.hv.call("domain.undefine", { name, flags: UNDEFINE_ALL });
  } catch (e) {
    if (isLibvirt(e, ErrorCode.NO_DOMAIN)) return;
    // Drivers without NVRAM support (the test driver) refuse the flag as an invalid argument.
    if (!isLibvirt(e, ErrorCode.INVALID_ARG)) throw e;
    await core.hv.call("domain.undefine", { name, flags: UNDEFINE_ALL & ~DomainUndefineFlags.NVRAM });
  }
}
