// PVC's request values and success bodies (its manual's shapes and types), for the OpenAPI document only: the routes return them already right.
import { type TSchema, t } from "elysia";
import { documented, documentedAs } from "../documented.ts";

/** {"message": "..."}: PVC's answer to an action. */
export const MessageBody = documented("done, in PVC's words", t.Object({ message: t.String() }), {
  message: 'VM "web-1" has been started.',
});

/** PVC's success on a cluster with more nodes (or Ceph): berth has none, so the route answers 510. */
export const UnavailableBody = (what: string) =>
  documented(
    `PVC's answer where ${what}; berth has none and answers 510`,
    t.Object({ message: t.String() }, { additionalProperties: true }),
  );

const text = (description?: string) => t.String(description ? { description } : {});

const NodeSchema = t.Object({
  name: t.String(),
  daemon_state: t.String(),
  coordinator_state: t.String(),
  domain_state: t.String(),
  cpu_count: text("a number, as a string (PVC's type)"),
  kernel: t.String(),
  os: t.String(),
  arch: t.String(),
  load: text("a number, as a string"),
  domains_count: text("a number, as a string"),
  running_domains: t.Array(t.String({ description: "a VM's uuid" })),
  vcpu: t.Object({ total: text(), allocated: text() }),
  memory: t.Object({
    total: t.Integer({ description: "MiB" }),
    allocated: t.Integer(),
    used: t.Integer(),
    free: t.Integer(),
  }),
});

const VmSchema = t.Object(
  {
    name: t.String(),
    uuid: t.String(),
    state: t.String({ description: "start, shutdown, stop or failed" }),
    node: t.String(),
    last_node: t.String(),
    migrated: t.String(),
    failed_reason: t.String(),
    description: t.String(),
    memory: t.Integer({ description: "MiB" }),
    vcpu: text("a number, as a string"),
    vcpu_topology: t.String(),
    networks: t.Array(t.Object({}, { additionalProperties: true })),
    type: t.String(),
    arch: t.String(),
    machine: t.String(),
    console: t.String(),
    emulator: t.String(),
    features: t.Array(t.String()),
    disks: t.Array(t.Object({}, { additionalProperties: true })),
    controllers: t.Array(t.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

const VolumeSchema = t.Object({
  name: t.String(),
  pool: t.String(),
  stats: t.Object({
    name: t.String(),
    size: t.String({ description: 'its virtual size, as "4096M"' }),
    format: t.Literal("qcow2"),
    allocated: t.String(),
    create_timestamp: t.String(),
  }),
});

const SnapshotSchema = t.Object({ pool: t.String(), volume: t.String(), snapshot: t.String() });

export const VersionBody = documented(
  "PVC's version (status 209, as PVC)",
  t.Object({ message: t.String() }),
  {
    message: "PVC API version 1",
  },
);
export const StorageRootBody = documented("the storage root", t.Object({ message: t.String() }));
export const NodesBody = documented("the nodes matched (this host, or none)", t.Array(NodeSchema));
export const VmsBody = documented("the VMs matched", t.Array(VmSchema));
export const VmBody = documented("the VM", VmSchema);
export const DumpBody = documentedAs("application/xml", "the VM's libvirt XML", t.String());
const NetworkSchema = t.Object({
  vni: text("a number, as a string"),
  description: t.String(),
  type: t.String({ description: "managed or bridged" }),
  domain: t.String(),
  ip6: t.Object({ network: t.String(), gateway: t.String(), dhcp_flag: text('"True" or "False"') }),
  ip4: t.Object({
    network: t.String(),
    gateway: t.String(),
    dhcp_flag: text('"True" or "False"'),
    dhcp_start: t.String(),
    dhcp_end: t.String(),
  }),
});

const LeaseSchema = t.Object({
  hostname: t.String(),
  ip4_address: t.String(),
  mac_address: t.String(),
  timestamp: text('the lease expiry in epoch seconds, or "static" for a reservation'),
});

const AclSchema = t.Object({
  direction: t.String({ description: "in or out" }),
  order: text("a number, as a string"),
  description: t.String(),
  rule: t.String({ description: "an nftables rule" }),
});

export const NetworksBody = documented("the networks matched", t.Array(NetworkSchema));
export const LeasesBody = documented("the leases and reservations matched", t.Array(LeaseSchema));
export const AclsBody = documented("the ACLs matched", t.Array(AclSchema));
export const VolumesBody = documented("the volumes matched", t.Array(VolumeSchema));
export const SnapshotsBody = documented("the snapshots matched", t.Array(SnapshotSchema));
export const LoginFormBody = documentedAs(
  "text/html",
  "the login form (auth on), else a JSON message",
  t.String(),
);
export const RedirectResponse = { description: "to /api/v1, with the session cookie set (or cleared)" };

/** PVC's values in the query string (it read them from a form body alike). */
export const queryValues = (names: string[]) =>
  names.map((name) => ({ name, in: "query", required: false, schema: { type: "string" as const } }));

/** PVC's values, read from the query string or a form body alike. */
export function pvcValues(fields: Record<string, TSchema>) {
  const schema = t.Object(fields);
  return {
    required: false,
    content: {
      "application/x-www-form-urlencoded": { schema },
      "multipart/form-data": { schema },
    },
  };
}
