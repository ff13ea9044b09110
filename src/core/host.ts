// What berth says about itself and its hypervisor: /v1 and /healthz answer from here.
import { pingDatabase } from "../db/host-meta.ts";
import { AppError, HypervisorUnavailable } from "../errors.ts";
import { BERTH_VERSION } from "../version.ts";
import { chooseDomainType, parseCapabilities } from "../xml/capabilities.ts";
import type { Core } from "./context.ts";
import type { Hypervisor } from "./hypervisor/client.ts";

/** Features this build offers; clients branch on these strings, so they only ever grow. */
export const FEATURES = [
  "libvirt-ffi",
  "hypervisor-workers",
  "lifecycle-events",
  "sqlite-wal",
  "openapi",
] as const;

export interface HostInfo {
  version: string;
  libvirt_version: string | null;
  hypervisor_version: string | null;
  hypervisor_uri: string;
  hypervisor_state: string;
  domain_type: string;
  features: string[];
}

export async function hostInfo(core: Core): Promise<HostInfo> {
  let lib: string | null = null;
  let hv: string | null = null;
  if (core.hv.state !== "down") {
    try {
      const info = await core.hv.call("hostInfo", {});
      lib = info.libvirtVersion;
      hv = info.hypervisorVersion;
    } catch (e) {
      if (!(e instanceof HypervisorUnavailable)) throw e;
    }
  }
  return {
    version: BERTH_VERSION,
    libvirt_version: lib,
    hypervisor_version: hv,
    hypervisor_uri: core.config.hypervisor.uri,
    hypervisor_state: core.hv.state,
    domain_type: core.domainType(),
    features: [...FEATURES],
  };
}

export interface Health {
  healthy: boolean;
  checks: { database: string; hypervisor: string };
}

/** How long /healthz waits for libvirtd to answer a ping before it reports it unhealthy. */
export const HEALTH_PING_MS = 2000;

export async function health(core: Core): Promise<Health> {
  let database = "ok";
  try {
    pingDatabase(core.db);
  } catch (e) {
    database = `failed: ${(e as Error).message}`;
  }
  // The ping keeps its normal deadline: a short one would declare a merely busy libvirtd dead (its Worker
  // replaced, the calls queued behind it failed). The health answer itself still comes within HEALTH_PING_MS.
  const ping = core.hv.call("ping", {}).then(
    () => "ok",
    (e) => (e instanceof AppError ? e.message : `failed: ${(e as Error).message}`),
  );
  const hypervisor = await Promise.race([
    ping,
    Bun.sleep(HEALTH_PING_MS).then(() => `no answer to a ping within ${HEALTH_PING_MS} ms (busy or hung)`),
  ]);
  return { healthy: database === "ok" && hypervisor === "ok", checks: { database, hypervisor } };
}

/** Resolves `domain_type = "auto"` from the host's capabilities; "unknown" until the hypervisor answers. */
export async function probeDomainType(
  hv: Hypervisor,
  setting: "auto" | "kvm" | "qemu",
): Promise<"kvm" | "qemu" | "unknown"> {
  if (setting !== "auto") return setting;
  try {
    return chooseDomainType(setting, parseCapabilities(await hv.call("capabilities", {})));
  } catch (e) {
    if (e instanceof HypervisorUnavailable) return "unknown";
    throw e;
  }
}

/**
 * The domain type berth defines guests with, probed once the client is up (it may come up later): call
 * after `hv.start()`; the function answers "unknown" until a probe succeeded.
 */
export async function watchDomainType(
  hv: Hypervisor,
  setting: "auto" | "kvm" | "qemu",
): Promise<() => "kvm" | "qemu" | "unknown"> {
  let domainType: "kvm" | "qemu" | "unknown" = "unknown";
  const probe = async () => {
    domainType = await probeDomainType(hv, setting);
  };
  hv.onState((state) => {
    if (state === "up" && domainType === "unknown") void probe();
  });
  await probe();
  return () => domainType;
}
