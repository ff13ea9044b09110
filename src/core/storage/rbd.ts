// The rbd storage backend's settings and its libvirt side: the cephx secret and the rbd pool, ensured once per config.
import { createHash } from "node:crypto";
import type { Config } from "../../config/schema.ts";
import { ErrorCode } from "../../ffi/error.ts";
import type { RbdSource } from "../../xml/domain.ts";
import { buildCephSecretXml, buildRbdPoolXml, type CephMonitor } from "../../xml/rbd.ts";
import type { Core } from "../context.ts";
import { singleFlight } from "../single-flight.ts";
import { isLibvirt } from "../storage-pool.ts";

/** How a VM disk on RBD is recorded (vm_disks.format): raw on the wire, a network disk in the domain XML. */
export const RBD_FORMAT = "rbd";

export interface RbdSettings {
  /** berth's libvirt pool over the Ceph pool. */
  libvirtPool: string;
  cephPool: string;
  monitors: CephMonitor[];
  user: string;
  keyFile: string;
  /** The same on every host with the same cluster and user, so a domain's XML means the same key everywhere. */
  secretUuid: string;
}

export function rbdBackend(config: Config): boolean {
  return config.storage.backend === "rbd";
}

function monitor(text: string): CephMonitor {
  const [host, port] = text.split(":");
  return { host: host as string, port: port ? Number(port) : 6789 };
}

/** A UUID derived from the cluster's monitors and the user (version 4/variant bits set so libvirt accepts it). */
function secretUuidFor(monitors: string[], user: string): string {
  const h = createHash("sha256")
    .update(`berth ceph secret\0${user}\0${monitors.join(",")}`)
    .digest("hex");
  const v = `4${h.slice(13, 16)}`;
  const w = ((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16) + h.slice(17, 20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${v}-${w}-${h.slice(20, 32)}`;
}

export function rbdSettings(config: Config): RbdSettings {
  const s = config.storage;
  return {
    libvirtPool: `${s.pool}-rbd`,
    cephPool: s.rbd_pool,
    monitors: s.ceph_monitors.map(monitor),
    user: s.ceph_user,
    keyFile: s.ceph_key_file,
    secretUuid: secretUuidFor([...s.ceph_monitors], s.ceph_user),
  };
}

/** The `<source>` of a VM disk that is RBD image `volume` of the configured pool. */
export function rbdSource(s: RbdSettings, volume: string): RbdSource {
  return { name: `${s.cephPool}/${volume}`, hosts: s.monitors, user: s.user, secretUuid: s.secretUuid };
}

const once = singleFlight<string>();

/** Makes sure the secret holds the key file's key and the rbd pool is defined, running and autostarted. */
export function ensureRbdPool(core: Core): Promise<string> {
  return once(core.config, () => ensure(core));
}

async function ensure(core: Core): Promise<string> {
  const s = rbdSettings(core.config);
  // Set every time: a rotated key file takes effect at the next ensure (start, reconnect).
  await core.hv.call("secret.define", {
    xml: buildCephSecretXml({ uuid: s.secretUuid, user: s.user }),
    keyFile: s.keyFile,
  });
  const found = (await core.hv.call("pool.list", {})).find((p) => p.name === s.libvirtPool);
  if (!found) {
    await core.hv.call("pool.define", {
      xml: buildRbdPoolXml({
        name: s.libvirtPool,
        cephPool: s.cephPool,
        monitors: s.monitors,
        user: s.user,
        secretUuid: s.secretUuid,
      }),
    });
  }
  if (!found?.active) {
    try {
      await core.hv.call("pool.create", { pool: s.libvirtPool });
    } catch (e) {
      if (!isLibvirt(e, ErrorCode.OPERATION_INVALID)) throw e; // already active: someone raced us
    }
  }
  await core.hv.call("pool.setAutostart", { pool: s.libvirtPool, on: true });
  return s.libvirtPool;
}
