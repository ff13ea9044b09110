// [fleet]: this host's place in a fleet of berth hosts coordinated through etcd; absent (no endpoints) means a single host.
import { Type as T } from "@sinclair/typebox";

const strict = { additionalProperties: false } as const;

export const FleetSchema = T.Object(
  {
    etcd: T.Array(T.String({ pattern: "^https?://[^\\s/]+$", description: "an etcd client URL" }), {
      default: [],
      maxItems: 16,
      description: "etcd client endpoints, e.g. http://10.0.0.1:2379; empty: no fleet (a single host)",
    }),
    name: T.String({
      pattern: "^((?!-)[a-z0-9-]{1,63}(?<!-))?$",
      default: "",
      description: "this host's name in the fleet (a DNS label, unique in the fleet)",
    }),
    api: T.String({
      pattern: "^(https?://[^\\s/]+)?$",
      default: "",
      description: "this host's API base URL as the other hosts reach it, e.g. http://10.0.0.1:8470",
    }),
    migration_address: T.String({
      maxLength: 253,
      default: "",
      description: "address the other hosts' libvirtd reach this host's libvirtd on (migration)",
    }),
    fence_address: T.String({
      pattern: "^([0-9.]{7,15}|[0-9A-Fa-f:]{2,39})?$",
      default: "",
      description:
        "the IP address this host's Ceph clients (its QEMUs) use; another host recovering this host's VMs blocklists it at Ceph first. Empty: migration_address",
    }),
    secret: T.String({
      maxLength: 512,
      default: "",
      description:
        "shared by every host of the fleet (at least 32 characters): signs requests one host forwards to another",
    }),
    lease_ttl_s: T.Integer({
      minimum: 2,
      maximum: 300,
      default: 10,
      description: "a host that stops renewing its registration drops out of the fleet after this long",
    }),
    prefix: T.String({
      pattern: "^/[A-Za-z0-9/_.-]{0,127}$",
      default: "/berth",
      description: "etcd key prefix of this fleet (several fleets may share one etcd)",
    }),
  },
  { ...strict, default: {} },
);
