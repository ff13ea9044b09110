// Pure builders of the libvirt XML an rbd storage backend needs: the cephx secret, the rbd pool, a raw RBD volume.
import { toXml } from "./codec.ts";

export interface CephMonitor {
  host: string;
  port: number;
}

/** A private, persistent secret for a cephx user; its value is set apart and never read back. */
export function buildCephSecretXml(spec: { uuid: string; user: string }): string {
  return toXml({
    secret: {
      "@ephemeral": "no",
      "@private": "yes",
      uuid: spec.uuid,
      usage: { "@type": "ceph", name: `client.${spec.user} secret` },
    },
  });
}

export function buildRbdPoolXml(spec: {
  name: string;
  cephPool: string;
  monitors: CephMonitor[];
  user: string;
  secretUuid: string;
}): string {
  return toXml({
    pool: {
      "@type": "rbd",
      name: spec.name,
      source: {
        name: spec.cephPool,
        host: spec.monitors.map((m) => ({ "@name": m.host, "@port": m.port })),
        auth: { "@type": "ceph", "@username": spec.user, secret: { "@uuid": spec.secretUuid } },
      },
    },
  });
}

/** A raw RBD volume (libvirt clones one from another in the same pool: a protected snapshot and a COW child). */
export function buildRbdVolumeXml(spec: { name: string; capacityBytes: number }): string {
  return toXml({
    volume: {
      name: spec.name,
      capacity: { "@unit": "bytes", "#text": spec.capacityBytes },
      target: { format: { "@type": "raw" } },
    },
  });
}
