// [storage] backend = "rbd": the Ceph cluster VM disks live on (keys beside `pool`/`path`), and the checks across them.
import { Type as T } from "@sinclair/typebox";
import type { Config } from "./schema.ts";

export const STORAGE_BACKENDS = ["dir", "rbd"] as const;
export type StorageBackend = (typeof STORAGE_BACKENDS)[number];

export const RbdStorageFields = {
  backend: T.Union(
    STORAGE_BACKENDS.map((b) => T.Literal(b)),
    {
      default: "dir",
      description:
        'where VM disks live: "dir" (qcow2 in berth\'s directory pool) or "rbd" (RBD clones in a Ceph pool every host can open)',
    },
  ),
  rbd_pool: T.String({
    pattern: "^([A-Za-z0-9][A-Za-z0-9_.-]{0,62})?$",
    default: "",
    description: "the Ceph pool (rbd pool init'ed) holding images and VM disks; needed with backend rbd",
  }),
  ceph_monitors: T.Array(
    T.String({
      pattern: "^[A-Za-z0-9][A-Za-z0-9.-]{0,252}(:[0-9]{1,5})?$",
      description: "a monitor as host or host:port (v1 protocol, default port 6789)",
    }),
    { default: [], maxItems: 16, description: "the cluster's monitors; needed with backend rbd" },
  ),
  ceph_user: T.String({
    pattern: "^([A-Za-z0-9][A-Za-z0-9_.-]{0,62})?$",
    default: "",
    description: "cephx user without `client.` (e.g. libvirt), with `profile rbd` on rbd_pool",
  }),
  ceph_key_file: T.String({
    pattern: "^(/.*)?$",
    default: "",
    description:
      "absolute path of a file holding only the user's base64 cephx key (`ceph auth get-key client.USER`); readable by root only",
  }),
};

/** What [storage] says that its types alone cannot: rbd needs its cluster named in full. */
export function storageProblems(config: Config): string[] {
  const s = config.storage;
  if (s.backend !== "rbd") return [];
  const missing: string[] = [];
  if (!s.rbd_pool) missing.push("storage.rbd_pool");
  if (s.ceph_monitors.length === 0) missing.push("storage.ceph_monitors");
  if (!s.ceph_user) missing.push("storage.ceph_user");
  if (!s.ceph_key_file) missing.push("storage.ceph_key_file");
  return missing.map((k) => `${k}: needed with storage.backend = "rbd"`);
}
