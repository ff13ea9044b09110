// Kahu's request forms and success bodies (its 2017 document's shapes), for the OpenAPI document only: the routes return them already right.
import { type TSchema, t } from "elysia";
import { documented } from "../documented.ts";

const uri = (what: string) => t.String({ description: `the ${what}'s URI` });
const nullableUri = (what: string) => t.Union([uri(what), t.Null()]);

/** {"message": "..."}: Kahu's answer to a change. */
export const MessageBody = (example: string) =>
  documented("done", t.Object({ message: t.String() }), { message: example });

export const SizeSchema = t.Object({ memory: t.Integer({ description: "MiB" }), ncpu: t.Integer() });

const Volume = t.Object({
  bootable: t.Boolean(),
  bus: t.String(),
  "guest-iface": t.String({ description: "virtio, scsi, ide or usb" }),
  "media-type": t.Union([t.Literal("disk"), t.Literal("cdrom")]),
  name: t.Optional(t.String({ description: "only on volumes added after creation" })),
  order: t.Integer(),
  size: t.Integer({ description: "MiB" }),
  tag: t.Null(),
  type: t.String({ description: "qcow2 or raw" }),
  "vdi-name": t.Union([t.String(), t.Null()]),
});
const Networks = t.Record(t.String(), t.Object({ order: t.Integer(), type: t.Literal("virtio") }));
const Volumes = t.Record(t.String(), Volume);

const ProfileSchema = t.Object({ name: t.String(), network: Networks, storage: Volumes });

const InstanceSchema = t.Object({
  name: t.String(),
  state: t.String(),
  profile: nullableUri("profile"),
  size: nullableUri("size"),
  hypervisor: uri("hypervisor instance"),
  network: Networks,
  storage: Volumes,
});

const HypervisorSchema = t.Object({
  name: t.String(),
  type: t.String({ description: "kvm or qemu" }),
  arch: t.String(),
  serialNumber: t.String(),
  physicalStorage: t.Array(t.Never()),
  physicalNetwork: t.Array(t.Never()),
});

const SnapshotSchema = t.Object({
  network: Networks,
  profile: nullableUri("profile"),
  size: nullableUri("size"),
  storage: Volumes,
  timestamp: t.String(),
});

const byKey = (what: string, schema: TSchema) => t.Record(t.String({ description: what }), schema);

export const SizesBody = documented("sizes by name", byKey("name", SizeSchema), {
  small: { memory: 1024, ncpu: 1 },
});
export const SizeBody = documented("the size", SizeSchema, { memory: 1024, ncpu: 1 });
export const ProfilesBody = documented("profiles by name", byKey("name", ProfileSchema));
export const ProfileBody = documented("the profile", ProfileSchema);
export const HypervisorsBody = documented(
  "hypervisor instances by id (this host is 0)",
  byKey("id", HypervisorSchema),
);
export const HypervisorBody = documented("this host", HypervisorSchema);
export const InstancesBody = documented("the scope's instances by id", byKey("instance id", InstanceSchema));
export const InstanceBody = documented("the instance", InstanceSchema);
export const CreatedInstanceBody = documented(
  "created (stopped); its URI is in Location",
  t.Object({
    message: t.Literal("instance created"),
    profile: uri("profile"),
    size: t.Optional(uri("size")),
    "ssh-key": t.Optional(t.String()),
  }),
);
export const AddressBody = documented("the interface's address", t.Object({ IPv4: t.String() }), {
  IPv4: "192.0.2.10",
});
export const VolumesBody = documented("the instance's volumes by name", byKey("volume name", Volume));
export const VolumeBody = documented("the volume", Volume);
export const AddedVolumeBody = documented(
  "added; its URI is in Location",
  t.Object({ name: t.String(), size: t.Integer({ description: "MiB" }) }),
  { name: "data", size: 1024 },
);
export const SnapshotsBody = documented(
  "the instance's snapshots by name",
  byKey("snapshot name", SnapshotSchema),
);
export const SnapshotBody = documented("the instance as the snapshot holds it", SnapshotSchema);
export const LoginBody = documented(
  "logged in: the session cookie carries a berth token",
  t.Object({ session: t.String({ description: "the token's id" }), uri: t.String() }),
);
export const LogoutBody = documented(
  "logged out (a bare JSON string, as Kahu)",
  t.Literal("logged out"),
  "logged out",
);

/** A form body (urlencoded or multipart) with these fields, for `detail.requestBody`. */
export function formBody(fields: Record<string, TSchema>, files = false) {
  const schema = t.Object(fields);
  const content: Record<string, { schema: TSchema }> = { "multipart/form-data": { schema } };
  if (!files) content["application/x-www-form-urlencoded"] = { schema };
  return { required: true, content };
}
