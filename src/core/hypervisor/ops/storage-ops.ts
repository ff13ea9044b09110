// Storage pool and volume operations run inside a hypervisor Worker, addressed by pool and volume name.
import {
  type Connection,
  ErrorCode,
  LibvirtError,
  type StoragePoolInfo,
  type VolumeInfo,
} from "../../../ffi/index.ts";
import { buildVolumeXml, type VolumeSpec } from "../../../xml/storage.ts";

export interface PoolSummary {
  name: string;
  active: boolean;
}

export interface VolumeSummary extends VolumeInfo {
  name: string;
  path: string;
}

type ByPool = { pool: string };
type ByVol = ByPool & { volume: string };

function withPool<T>(
  c: Connection,
  name: string,
  fn: (p: ReturnType<Connection["storagePoolByName"]>) => T,
): T {
  using p = c.storagePoolByName(name);
  return fn(p);
}

type VolumeLike = { name(): string; path(): string; info(): VolumeInfo };

function describe(v: VolumeLike): VolumeSummary {
  return { name: v.name(), path: v.path(), ...v.info() };
}

/** Describes each listed volume; one deleted between the listing and these reads is simply not there any more. */
export function describeListed(vols: Iterable<VolumeLike & Disposable>): VolumeSummary[] {
  const out: VolumeSummary[] = [];
  for (const v of vols) {
    using vol = v;
    try {
      out.push(describe(vol));
    } catch (e) {
      if (!(e instanceof LibvirtError && e.libvirtCode === ErrorCode.NO_STORAGE_VOL)) throw e;
    }
  }
  return out;
}

export const storageOps = {
  "pool.list"(c: Connection, _a: Record<string, never>): PoolSummary[] {
    return c.listStoragePools().map((p) => {
      using pool = p;
      return { name: pool.name(), active: pool.isActive() };
    });
  },
  "pool.define"(c: Connection, a: { xml: string }): string {
    using p = c.defineStoragePool(a.xml);
    return p.name();
  },
  "pool.build": (c: Connection, a: ByPool) => withPool(c, a.pool, (p) => p.build()),
  "pool.create": (c: Connection, a: ByPool) => withPool(c, a.pool, (p) => p.create()),
  "pool.destroy": (c: Connection, a: ByPool) => withPool(c, a.pool, (p) => p.destroy()),
  "pool.undefine": (c: Connection, a: ByPool) => withPool(c, a.pool, (p) => p.undefine()),
  "pool.setAutostart": (c: Connection, a: ByPool & { on: boolean }) =>
    withPool(c, a.pool, (p) => p.setAutostart(a.on)),
  "pool.refresh": (c: Connection, a: ByPool) => withPool(c, a.pool, (p) => p.refresh()),
  "pool.xml": (c: Connection, a: ByPool) => withPool(c, a.pool, (p) => p.xml()),
  "pool.info": (c: Connection, a: ByPool): StoragePoolInfo => withPool(c, a.pool, (p) => p.info()),
  "volume.list": (c: Connection, a: ByPool): VolumeSummary[] =>
    withPool(c, a.pool, (p) => describeListed(p.listVolumes())),
  "volume.create": (c: Connection, a: ByPool & { xml: string }): VolumeSummary =>
    withPool(c, a.pool, (p) => {
      using v = p.createVolume(a.xml);
      return describe(v);
    }),
  /** The same from the volume's spec: the XML is built here, so the HTTP thread never serializes it. */
  "volume.createSpec": (c: Connection, a: ByPool & { spec: VolumeSpec }): VolumeSummary =>
    withPool(c, a.pool, (p) => {
      using v = p.createVolume(buildVolumeXml(a.spec));
      return describe(v);
    }),
  "volume.createFrom": (c: Connection, a: ByPool & { xml: string; from: string }): VolumeSummary =>
    withPool(c, a.pool, (p) => {
      using src = p.volume(a.from);
      using v = p.createVolumeFrom(a.xml, src);
      return describe(v);
    }),
  "volume.info": (c: Connection, a: ByVol): VolumeSummary =>
    withPool(c, a.pool, (p) => {
      using v = p.volume(a.volume);
      return describe(v);
    }),
  "volume.xml": (c: Connection, a: ByVol): string =>
    withPool(c, a.pool, (p) => {
      using v = p.volume(a.volume);
      return v.xml();
    }),
  "volume.delete": (c: Connection, a: ByVol): void =>
    withPool(c, a.pool, (p) => {
      using v = p.volume(a.volume);
      v.delete();
    }),
  "volume.resize": (c: Connection, a: ByVol & { bytes: number }): void =>
    withPool(c, a.pool, (p) => {
      using v = p.volume(a.volume);
      v.resize(a.bytes);
    }),
};
