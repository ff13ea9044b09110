// The berth.toml schema: every setting, its type and default. The names are a contract.
import { type Static, Type as T } from "@sinclair/typebox";
import { DNS_LABEL, HOSTNAME, LIBVIRT_NAME_MAX, POOL_NAME_MAX } from "../patterns.ts";

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
    bus: T.Optional(T.Literal("scsi", { description: "every disk hangs off one virtio-scsi controller" })),
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

/** How much of the host berth's VMs may hold: vCPUs and memory against the host's, disks against the pool. */
export const CapacitySchema = T.Object(
  {
    vcpu_overcommit: T.Number({
      exclusiveMinimum: 0,
      maximum: 1000,
      default: 4,
      description: "berth's VMs may hold at most the host's CPUs times this in vCPUs",
    }),
    memory_overcommit: T.Number({
      exclusiveMinimum: 0,
      maximum: 100,
      default: 1.5,
      description: "berth's VMs may hold at most the host's memory times this",
    }),
    max_disk_gb: T.Integer({
      minimum: 1,
      maximum: 65_536,
      default: 2048,
      description: "the largest disk (GiB, virtual size) a VM may have",
    }),
    disk_overcommit: T.Number({
      minimum: 0,
      maximum: 1000,
      default: 1,
      description:
        "qcow2 is thin: new disks may take the pool's free space times this, and all of berth's VM disks its capacity times this (virtual sizes); 0: no space checks",
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
};

/** A pool of ready VMs; the same object is the body of POST /v1/pools. */
export const PoolSchema = T.Object(
  { name: PoolName("letters, digits, '-', '_' and '.', e.g. debian-7-x86_64"), ...PoolFields },
  strict,
);

/** A user who may ask for tokens: the hash comes from `berth hash-password` (argon2id; bcrypt also verifies). */
export const AuthUserSchema = T.Object(
  {
    name: T.String({ pattern: "^[A-Za-z0-9._@-]{1,64}$", description: "the HTTP basic auth user name" }),
    password_hash: T.String({
      pattern: "^\\$(argon2id|argon2i|argon2d|2a|2b|2y)\\$",
      minLength: 20,
      description: "from berth hash-password (argon2id; bcrypt is accepted too)",
    }),
    admin: T.Boolean({ default: false, description: "may act on every VM and revoke any token" }),
  },
  strict,
);

export const AuthSchema = T.Object(
  {
    enabled: T.Boolean({
      default: false,
      description: "every mutating route needs a token; required on a non-loopback listen",
    }),
    users: T.Array(AuthUserSchema, { default: [], description: "users and their password hashes" }),
    users_file: T.String({
      default: "",
      description: "a TOML or JSON file with more users ({users = [...]}); empty means none",
    }),
    token_lifetime_hours: T.Integer({
      minimum: 0,
      maximum: 87_600,
      default: 24,
      description: "hours a token is valid after it is issued; 0: until revoked",
    }),
    vm_lifetime_hours: T.Integer({
      minimum: 0,
      maximum: 87_600,
      default: 0,
      description:
        "hours a VM checked out with a token lives when no lifetime is asked for (vmpooler's vm_lifetime_auth); 0: the pool's lifetime",
    }),
    max_running_vms_per_user: T.Integer({
      minimum: 0,
      maximum: 100_000,
      default: 0,
      description: "the older name of max_vms_per_user (the smaller of the two applies); 0: unlimited",
    }),
    max_vms_per_user: T.Integer({
      minimum: 0,
      maximum: 100_000,
      default: 0,
      description: "VMs one user may own at once (created or checked out); 0: unlimited",
    }),
    max_vcpus_per_user: T.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
      description: "vCPUs of all the VMs one user owns; 0: unlimited",
    }),
    max_memory_mib_per_user: T.Integer({
      minimum: 0,
      maximum: 1_073_741_824,
      default: 0,
      description: "MiB of memory of all the VMs one user owns; 0: unlimited",
    }),
    max_disk_gb_per_user: T.Integer({
      minimum: 0,
      maximum: 1_073_741_824,
      default: 0,
      description: "GiB of disk (virtual sizes) of all the VMs one user owns; 0: unlimited",
    }),
    users_can_create: T.Boolean({
      default: true,
      description: "users (not only admins) may create VMs from the existing images, sizes and profiles",
    }),
    public_reads: T.Boolean({
      default: false,
      description:
        "anyone may see every VM's non-secret fields (name, state, pool, IP, lifetime, tags), as vmpooler's GET /vm/<host> and /status are public; off: a user sees only their own VMs",
    }),
    allow_insecure_listen: T.Boolean({
      default: false,
      description: "start on a non-loopback listen with auth disabled (anyone reaching it can do anything)",
    }),
  },
  { ...strict, default: {} },
);

/** vmpooler's API front (served under `prefix`, /api/v1 by default). */
export const VmpoolerSchema = T.Object(
  {
    prefix: T.String({
      // Letters, digits, _ and - only (the auth guard builds its path patterns from it), never a
      // path the native or staging fronts serve.
      pattern: "^(?!/(v1|hosts|networks|healthz|metrics|docs|openapi)(/|$))(/[A-Za-z0-9_-]{1,32}){1,4}$",
      default: "/api/v1",
      description: "the path vmpooler's API is served under (/api/v1 as vmpooler; /api/v2 for newer clients)",
    }),
    domain: T.String({
      maxLength: 253,
      default: "",
      description: "the domain vmpooler answers name next to host names; empty leaves the key out",
    }),
    anonymous_checkout: T.Boolean({
      default: true,
      description:
        "with auth on, POST /vm without a token checks out VMs nobody owns, which anyone may return or tag through this front (as vmpooler); false: a token is needed",
    }),
    summary_max_days: T.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 36_525,
      description:
        "longest /summary range in days (vmpooler had none; 100 years by default, since a range from year 0 is 140 MB and a second of work); 0: no bound",
    }),
  },
  { ...strict, default: {} },
);

/** Bounds on what one client can make berth hold: bodies, uploads, event streams, idle connections, password checks. */
export const LimitsSchema = T.Object(
  {
    max_body_bytes: T.Integer({
      minimum: 1024,
      maximum: 67_108_864,
      default: 1_048_576,
      description: "largest JSON or form request body (413 beyond), refused before it is read",
    }),
    max_upload_bytes: T.Integer({
      minimum: 1_048_576,
      maximum: 2 ** 50,
      default: 2 ** 40,
      description:
        "largest image upload (413 beyond); an upload must also fit the storage pool's free space (507)",
    }),
    idle_timeout_s: T.Integer({
      minimum: 1,
      maximum: 255,
      default: 30,
      description: "a connection with no request in flight and nothing sent for this long is closed",
    }),
    max_event_streams: T.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 256,
      description: "open /v1/events streams over all clients (503 beyond)",
    }),
    max_event_streams_per_client: T.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 16,
      description: "open /v1/events streams per user (with a token) or per client address (503 beyond)",
    }),
    password_checks_per_minute_per_user: T.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 30,
      description: "password checks per user name per minute, in bursts of as many (429 beyond)",
    }),
    password_checks_per_minute_per_address: T.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 10,
      description: "password checks per client address per minute, in bursts of as many (429 beyond)",
    }),
    max_concurrent_password_checks: T.Integer({
      minimum: 1,
      maximum: 64,
      default: 2,
      description: "password hashes verified at once (each takes tens of milliseconds of CPU)",
    }),
    max_queued_password_checks: T.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 16,
      description: "password checks waiting for a free verifier (429 beyond)",
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
    vmpooler: VmpoolerSchema,
    demo: DemoSchema,
    limits: LimitsSchema,
  },
  strict,
);

export type Config = Static<typeof ConfigSchema>;
export type HypervisorConfig = Static<typeof HypervisorSchema>;
export type AuthConfig = Static<typeof AuthSchema>;
export type ImagesConfig = Static<typeof ImagesSchema>;
export type DemoConfig = Static<typeof DemoSchema>;
export type LimitsConfig = Static<typeof LimitsSchema>;
export type AuthUser = Static<typeof AuthUserSchema>;
