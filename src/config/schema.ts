// The berth.toml schema: every setting, its type and default. The names are a contract.
import { type Static, Type as T } from "@sinclair/typebox";
import { DNS_LABEL, HOSTNAME, LIBVIRT_NAME_MAX, POOL_NAME_MAX } from "../patterns.ts";
import { AuthSchema } from "./auth-schema.ts";
import { FleetSchema } from "./fleet-schema.ts";
import { KahuSchema } from "./kahu-schema.ts";
import { CapacitySchema, LimitsSchema } from "./limits-schema.ts";
import { ListenSchema } from "./listen.ts";
import { PvcSchema } from "./pvc-schema.ts";
import { StagingSchema } from "./staging-schema.ts";
import { RbdStorageFields } from "./storage-rbd-schema.ts";
import { SysadmSchema } from "./sysadm-schema.ts";
import { VmpoolerSchema } from "./vmpooler-schema.ts";

export { type AuthConfig, AuthSchema, type AuthUser, AuthUserSchema } from "./auth-schema.ts";
export { FleetSchema } from "./fleet-schema.ts";
export { KahuSchema } from "./kahu-schema.ts";
export { CapacitySchema, type LimitsConfig, LimitsSchema } from "./limits-schema.ts";
export { PvcSchema } from "./pvc-schema.ts";
export { StagingSchema } from "./staging-schema.ts";
export { SysadmSchema } from "./sysadm-schema.ts";
export { VmpoolerSchema } from "./vmpooler-schema.ts";

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
    ...RbdStorageFields,
  },
  { ...strict, default: {} },
);

/** Where image bytes may come from: host directories (admin imports) and which networks URLs may reach. */
export const ImagesSchema = T.Object(
  {
    import_dirs: T.Array(T.String({ pattern: "^/", description: "an absolute directory" }), {
      default: [],
      maxItems: 64,
      description:
        "host directories path imports may read from (symlinks resolved); empty: path imports are off",
    }),
    allow_private_networks: T.Boolean({
      default: false,
      description:
        "let image URLs and install locations reach private, loopback, link-local and other non-public addresses",
    }),
    max_download_gib: T.Integer({
      minimum: 1,
      maximum: 65_536,
      default: 64,
      description: "largest image a URL import may download",
    }),
    download_timeout_min: T.Integer({
      minimum: 1,
      maximum: 10_080,
      default: 360,
      description: "longest time a URL import may take",
    }),
  },
  { ...strict, default: {} },
);

export const NetworkSchema = T.Object(
  {
    ovs_datapath: T.Union([T.Literal("system"), T.Literal("netdev")], {
      default: "system",
      description: "netdev (userspace) where the kernel has no openvswitch module",
    }),
    manage_bridges: T.Boolean({
      default: true,
      description: "create missing OVS bridges (ovs-vsctl); false means the bridges already exist",
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

/** A named vCPU+memory shape; the same object is the body of POST /v1/sizes. */
export const SizeSchema = T.Object(
  {
    name: T.String({ pattern: DNS_LABEL, description: "a DNS label, e.g. 1cpu256mb" }),
    vcpus: T.Integer({ minimum: 1, maximum: 256 }),
    memory_mib: T.Integer({ minimum: 16, maximum: 4_194_304 }),
  },
  strict,
);

const Ref = (what: string, maxLength = 63) =>
  T.String({ minLength: 1, maxLength, description: `name of a ${what}` });
/** vmpooler's platform names: `debian-7-x86_64`, `win-2019_x86_64`. */
const PoolName = (description: string) =>
  T.String({ pattern: HOSTNAME, maxLength: POOL_NAME_MAX, description });

/** A disk's bus: the guest sees sdX on scsi, sata and usb, vdX on virtio. */
const DiskBusSchema = T.Union([T.Literal("scsi"), T.Literal("virtio"), T.Literal("sata"), T.Literal("usb")], {
  description:
    "scsi (default: virtio-scsi, sdX), virtio (virtio-blk, vdX), sata (AHCI, sdX; no hot-plug), usb (usb-storage on xHCI, sdX)",
});

export const ProfileDiskSchema = T.Object(
  {
    name: T.String({ pattern: DNS_LABEL, description: "the disk's name within the VM (not root)" }),
    size_gb: T.Optional(
      T.Integer({
        minimum: 1,
        maximum: 65_536,
        description: "blank size, or the size an image copy grows to",
      }),
    ),
    bus: T.Optional(DiskBusSchema),
    media: T.Optional(T.Union([T.Literal("disk"), T.Literal("cdrom")], { description: "default disk" })),
    image: T.Optional(Ref("disk image (media disk) or ISO (media cdrom)")),
  },
  strict,
);

export const ProfileBootSchema = T.Object(
  {
    mode: T.Union([T.Literal("disk"), T.Literal("kernel"), T.Literal("iso"), T.Literal("network")]),
    kernel_image: T.Optional(Ref("kernel image (mode kernel)")),
    cmdline: T.Optional(T.String({ maxLength: 4096, description: "kernel command line (kernel, network)" })),
    iso_image: T.Optional(Ref("ISO image (mode iso)")),
    location: T.Optional(
      T.String({ maxLength: 2048, description: "install tree URL, http(s) or ftp (mode network)" }),
    ),
  },
  strict,
);

/** Everything a profile says about the VMs made from it; every field is optional. */
export const ProfileFields = {
  image: T.Optional(
    T.Union([Ref("disk image"), T.Null()], { description: "base image; null or absent: none" }),
  ),
  size: T.Optional(Ref("size")),
  cpus: T.Optional(T.Integer({ minimum: 1, maximum: 256, description: "overrides the size's vcpus" })),
  memory_mib: T.Optional(
    T.Integer({ minimum: 16, maximum: 4_194_304, description: "overrides the size's memory" }),
  ),
  root_disk_gb: T.Optional(T.Integer({ minimum: 1, maximum: 65_536, description: "root overlay size" })),
  root_disk_bus: T.Optional(DiskBusSchema),
  disks: T.Optional(T.Array(ProfileDiskSchema, { maxItems: 15 })),
  networks: T.Optional(
    T.Array(Ref("network", LIBVIRT_NAME_MAX), { maxItems: 8, description: "one NIC per entry, in order" }),
  ),
  boot: T.Optional(ProfileBootSchema),
  ssh_keys: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 16_384 }), { maxItems: 100 })),
  user_data: T.Optional(T.String({ maxLength: 65_536, description: "cloud-init user-data" })),
};

/** A named VM recipe; the same object is the body of POST /v1/profiles. */
export const ProfileSchema = T.Object(
  { name: T.String({ pattern: DNS_LABEL, description: "a DNS label" }), ...ProfileFields },
  strict,
);

export const SchedulerSchema = T.Object(
  {
    max_concurrent_creates: T.Integer({
      minimum: 1,
      maximum: 256,
      default: 4,
      description: "pool VMs being created at once, over all pools",
    }),
    interval_s: T.Integer({
      minimum: 1,
      maximum: 3600,
      default: 5,
      description: "how often pools are checked (they are also checked whenever something changes)",
    }),
  },
  { ...strict, default: {} },
);

/** Everything a pool says besides its name; every field has a default but the recipe. */
export const PoolFields = {
  profile: T.Optional(Ref("profile")),
  image: T.Optional(Ref("disk image (without a profile)")),
  vm_size: T.Optional(Ref("size (without a profile; the pool's count is `size`)")),
  networks: T.Optional(
    T.Array(Ref("network", LIBVIRT_NAME_MAX), { maxItems: 8, description: "overrides the profile's" }),
  ),
  size: T.Integer({ minimum: 0, maximum: 10_000, description: "ready VMs to keep (pending + ready)" }),
  ready_ttl: T.Optional(
    T.Integer({ minimum: 0, maximum: 525_600, description: "minutes a ready VM is kept; 0: forever" }),
  ),
  lifetime: T.Optional(
    T.Number({ exclusiveMinimum: 0, maximum: 8760, description: "hours a checked-out VM lives by default" }),
  ),
  max_lifetime: T.Optional(
    T.Number({ exclusiveMinimum: 0, maximum: 8760, description: "longest lifetime, in hours from checkout" }),
  ),
  ready_check: T.Optional(
    T.String({
      pattern: "^(running|ip|tcp:[0-9]{1,5})$",
      description: "running, ip (an address is known) or tcp:PORT (a TCP connect succeeds)",
    }),
  ),
  ready_timeout: T.Optional(
    T.Integer({ minimum: 1, maximum: 1440, description: "minutes a VM may take to become ready" }),
  ),
  alias: T.Optional(
    T.Array(PoolName("another name of the pool"), { maxItems: 32, description: "other names of the pool" }),
  ),
  tier: T.Optional(
    T.Union([T.Literal("running"), T.Literal("paused"), T.Literal("saved")], {
      description:
        "how ready VMs wait: running (default), paused (suspended: no CPU; resumed on checkout) or saved (libvirt managed save: no CPU, no RAM; restored on checkout)",
    }),
  ),
  fleet: T.Optional(
    T.Boolean({
      description:
        "a fleet pool (only with [fleet]; declare it the same on every host): each host keeps `size` ready VMs, and a checkout at any host takes from every host's stock",
    }),
  ),
};

/** A pool of ready VMs; the same object is the body of POST /v1/pools. */
export const PoolSchema = T.Object(
  { name: PoolName("letters, digits, '-', '_' and '.', e.g. debian-7-x86_64"), ...PoolFields },
  strict,
);

/** Where the structured log goes: stderr (journald) unless a file is named. */
export const LogSchema = T.Object(
  {
    file: T.String({
      default: "",
      description:
        "append the JSON-lines log to this file instead of stderr (reopened on SIGHUP, for logrotate); empty: stderr",
    }),
  },
  { ...strict, default: {} },
);

/** The demo pool that works out of the box, on the tiny guest `berth demo-image` builds. */
export const DemoSchema = T.Object(
  {
    enabled: T.Boolean({
      default: true,
      description:
        "keep the demo pool (image, NAT network, profile and pool named demo) when its guest is built",
    }),
    size: T.Integer({ minimum: 0, maximum: 16, default: 2, description: "ready demo VMs to keep" }),
    subnet: T.String({
      pattern: "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$",
      default: "192.168.147.0/24",
      description: "the demo NAT network's IPv4 subnet",
    }),
  },
  { ...strict, default: {} },
);

export const ConfigSchema = T.Object(
  {
    listen: ListenSchema(
      "127.0.0.1:8470",
      "host:port the HTTP API (and every front without a listener of its own) listens on",
    ),
    data_dir: T.String({ minLength: 1, default: "/var/lib/berth" }),
    log_level: T.Union([T.Literal("debug"), T.Literal("info"), T.Literal("warn"), T.Literal("error")], {
      default: "info",
    }),
    log: LogSchema,
    hypervisor: HypervisorSchema,
    storage: StorageSchema,
    images: ImagesSchema,
    network: NetworkSchema,
    vm: VmSchema,
    reconcile: ReconcileSchema,
    auth: AuthSchema,
    sizes: T.Array(SizeSchema, { default: [], description: "sizes this file declares (source of truth)" }),
    profiles: T.Array(ProfileSchema, {
      default: [],
      description: "profiles this file declares (source of truth)",
    }),
    scheduler: SchedulerSchema,
    capacity: CapacitySchema,
    pools: T.Array(PoolSchema, { default: [], description: "pools this file declares (source of truth)" }),
    staging: StagingSchema,
    vmpooler: VmpoolerSchema,
    kahu: KahuSchema,
    pvc: PvcSchema,
    sysadm: SysadmSchema,
    demo: DemoSchema,
    limits: LimitsSchema,
    fleet: FleetSchema,
  },
  strict,
);

export type Config = Static<typeof ConfigSchema>;
export type HypervisorConfig = Static<typeof HypervisorSchema>;
export type ImagesConfig = Static<typeof ImagesSchema>;
export type DemoConfig = Static<typeof DemoSchema>;
export type FleetConfig = Static<typeof FleetSchema>;
