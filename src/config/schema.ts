// The berth.toml schema: every setting, its type and default. The names are a contract.
import { type Static, Type as T } from "@sinclair/typebox";

const strict = { additionalProperties: false } as const;

export const HypervisorSchema = T.Object(
  {
    uri: T.String({ minLength: 1, default: "qemu:///system", description: "libvirt connection URI" }),
    domain_type: T.Union([T.Literal("auto"), T.Literal("kvm"), T.Literal("qemu")], {
      default: "auto",
      description: "auto probes the host for KVM; qemu is software emulation (TCG)",
    }),
    workers: T.Integer({ minimum: 1, maximum: 32, default: 4, description: "hypervisor worker threads" }),
    call_timeout_ms: T.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
    long_call_timeout_ms: T.Integer({ minimum: 1000, maximum: 3_600_000, default: 300_000 }),
    reconnect_max_ms: T.Integer({ minimum: 100, maximum: 600_000, default: 5_000 }),
  },
  { ...strict, default: {} },
);

export const StorageSchema = T.Object(
  {
    pool: T.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", default: "berth" }),
    path: T.String({ default: "", description: "pool directory; empty means <data_dir>/pool" }),
  },
  { ...strict, default: {} },
);

export const NetworkSchema = T.Object(
  {
    ovs_datapath: T.Union([T.Literal("system"), T.Literal("netdev")], {
      default: "system",
      description: "netdev (userspace) where the kernel has no openvswitch module",
    }),
  },
  { ...strict, default: {} },
);

export const VmSchema = T.Object(
  {
    shutdown_timeout_s: T.Integer({ minimum: 1, maximum: 3600, default: 60 }),
    console_dir: T.String({
      default: "",
      description: "serial console logs; empty means <data_dir>/console",
    }),
  },
  { ...strict, default: {} },
);

export const ReconcileSchema = T.Object(
  {
    interval_s: T.Integer({ minimum: 5, maximum: 86_400, default: 60 }),
    orphans: T.Union([T.Literal("report"), T.Literal("adopt"), T.Literal("remove")], { default: "report" }),
  },
  { ...strict, default: {} },
);

export const ConfigSchema = T.Object(
  {
    listen: T.String({
      pattern: "^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$",
      default: "127.0.0.1:8470",
      description: "host:port the HTTP API listens on",
    }),
    data_dir: T.String({ minLength: 1, default: "/var/lib/berth" }),
    log_level: T.Union([T.Literal("debug"), T.Literal("info"), T.Literal("warn"), T.Literal("error")], {
      default: "info",
    }),
    hypervisor: HypervisorSchema,
    storage: StorageSchema,
    network: NetworkSchema,
    vm: VmSchema,
    reconcile: ReconcileSchema,
  },
  strict,
);

export type Config = Static<typeof ConfigSchema>;
export type HypervisorConfig = Static<typeof HypervisorSchema>;
