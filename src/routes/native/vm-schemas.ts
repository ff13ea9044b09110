// TypeBox schemas of the VM routes: request bodies (unknown fields rejected) and the VM resource.
import { t } from "elysia";
import { DNS_LABEL, HOSTNAME, LIBVIRT_NAME_MAX } from "../../core/names.ts";
import { PROJECT_NAME, PROJECT_NAME_MAX } from "../../patterns.ts";

const strict = { additionalProperties: false } as const;

export const VmName = t.String({
  pattern: HOSTNAME,
  maxLength: LIBVIRT_NAME_MAX,
  description: "a hostname, e.g. web-1.staging.example.com; also the libvirt domain's name",
});
/** Disks and snapshots within a VM. */
export const LabelName = t.String({ pattern: DNS_LABEL, maxLength: 63, description: "DNS label" });
/** The project a VM belongs to. */
export const ProjectName = t.String({
  pattern: PROJECT_NAME,
  maxLength: PROJECT_NAME_MAX,
  description:
    "a project: 1-63 letters, digits, '-' and '_' (no '-' at either end), compared exactly; default `default`",
});
/** A reference to an image, size, profile or network (networks are hostname-long). */
export const RefName = t.String({ minLength: 1, maxLength: LIBVIRT_NAME_MAX });

const Tags = t.Record(t.String({ minLength: 1, maxLength: 64 }), t.String({ maxLength: 256 }), {
  maxProperties: 64,
  description: "key/value tags",
});
const SshKey = t.String({ minLength: 1, maxLength: 16384 });

/** A disk's bus; the guest sees sdX on scsi, sata and usb, vdX on virtio. */
export const DiskBusSchema = t.Union(
  [t.Literal("scsi"), t.Literal("virtio"), t.Literal("sata"), t.Literal("usb")],
  {
    description:
      "scsi (default: virtio-scsi, sdX), virtio (virtio-blk, vdX; not for a cdrom), sata (AHCI, sdX; cannot be added to or removed from a running VM: 409), usb (usb-storage on xHCI, sdX)",
  },
);

export const DiskRequestSchema = t.Object(
  {
    name: t.Optional(LabelName),
    size_gb: t.Optional(t.Integer({ minimum: 1, maximum: 65536 })),
    image: t.Optional(RefName),
    media: t.Optional(t.Union([t.Literal("disk"), t.Literal("cdrom")])),
    bus: t.Optional(DiskBusSchema),
  },
  strict,
);

export const CreateVmSchema = t.Object(
  {
    name: t.Optional(VmName),
    profile: t.Optional(RefName),
    image: t.Optional(RefName),
    size: t.Optional(RefName),
    cpus: t.Optional(t.Integer({ minimum: 1, maximum: 256 })),
    memory_mib: t.Optional(t.Integer({ minimum: 16, maximum: 4_194_304 })),
    root_disk_gb: t.Optional(t.Integer({ minimum: 1, maximum: 65536 })),
    root_disk_bus: t.Optional(DiskBusSchema),
    disks: t.Optional(t.Array(DiskRequestSchema, { maxItems: 15 })),
    networks: t.Optional(t.Array(RefName, { maxItems: 8 })),
    start: t.Optional(t.Boolean({ default: true })),
    ssh_keys: t.Optional(t.Array(SshKey, { maxItems: 32 })),
    user_data: t.Optional(
      t.String({ maxLength: 65_536, description: "cloud-init user-data for the config drive (cidata)" }),
    ),
    install: t.Optional(
      t.Object(
        {
          location: t.String({ minLength: 1, maxLength: 2048, description: "install tree URL (http/https)" }),
          cmdline: t.Optional(
            t.String({ maxLength: 4096, description: "the installer's kernel command line" }),
          ),
        },
        { ...strict, description: "network install: boot the tree's installer, then the disk" },
      ),
    ),
    tags: t.Optional(Tags),
    description: t.Optional(t.String({ maxLength: 4096 })),
    project: t.Optional(ProjectName),
    host: t.Optional(
      t.String({
        maxLength: 63,
        description: "[fleet] the host to create it on; default: chosen by `selector`",
      }),
    ),
    selector: t.Optional(
      t.Union([t.Literal("mem"), t.Literal("vcpus"), t.Literal("load"), t.Literal("vms")], {
        description:
          "[fleet] without `host`: the live host with the least allocated memory (mem, default), vCPUs, load or fewest VMs",
      }),
    ),
  },
  strict,
);

export const UpdateVmSchema = t.Object(
  {
    tags: t.Optional(Tags),
    description: t.Optional(t.String({ maxLength: 4096 })),
    cpus: t.Optional(t.Integer({ minimum: 1, maximum: 256 })),
    memory_mib: t.Optional(t.Integer({ minimum: 16, maximum: 4_194_304 })),
    lifetime: t.Optional(
      t.Number({
        exclusiveMinimum: 0,
        description: "checked-out pool VMs: hours from checkout, up to the pool's max",
      }),
    ),
    project: t.Optional(
      t.String({
        pattern: PROJECT_NAME,
        maxLength: PROJECT_NAME_MAX,
        description:
          "moves it to this project: its owner or an admin, into a project the caller may use (403 forbidden otherwise); pool VMs stay in default (409)",
      }),
    ),
  },
  strict,
);

export const VmDiskSchema = t.Object({
  name: t.String(),
  target: t.String({
    description:
      "libvirt's target for it, one letter per disk of the VM: sda, sdb, … (vda, vdb, … on virtio)",
  }),
  bus: DiskBusSchema,
  device: t.Union([t.Literal("disk"), t.Literal("cdrom")]),
  format: t.String(),
  size: t.Integer({ description: "bytes" }),
  volume: t.String(),
  path: t.String(),
  image: t.Nullable(t.String()),
});

export const VmSchema = t.Object({
  id: t.String(),
  name: t.String(),
  host: t.Optional(t.String({ description: "[fleet] the host it lives on (fleet-wide lists)" })),
  project: t.String({
    description: "the project it belongs to (default unless created in or moved to another)",
  }),
  uuid: t.Nullable(t.String()),
  status: t.String({
    description:
      "berth's record: creating, running, stopped, paused, restoring (a pool VM being woken from its tier after checkout), error or gone",
  }),
  state: t.String({
    description:
      "libvirt's live state (running, shutoff, paused, …); unknown while libvirtd is unreachable, absent if the domain is gone",
  }),
  primary_ipv4: t.Nullable(
    t.String({
      description: "the first IPv4 known for its NICs; on GET /v1/vms/{name} only (null in lists)",
    }),
  ),
  vcpus: t.Integer(),
  memory_mib: t.Integer(),
  size: t.Nullable(
    t.String({
      description: "the named size it was made to; null when made from cpus and memory_mib, or resized since",
    }),
  ),
  profile: t.Nullable(t.String()),
  image: t.Nullable(t.String()),
  boot: t.Object({
    mode: t.String(),
    kernel_image: t.Optional(t.String()),
    cmdline: t.Optional(t.String()),
    iso_image: t.Optional(t.String()),
    location: t.Optional(t.String()),
  }),
  description: t.String(),
  tags: t.Record(t.String(), t.String()),
  ssh_keys: t.Array(t.String()),
  disks: t.Array(VmDiskSchema),
  nics: t.Array(
    t.Object({
      network: t.String(),
      mac: t.String(),
      kind: t.Nullable(t.String({ description: "ovs or nat" })),
      vlan: t.Nullable(t.Integer()),
      trunk: t.Nullable(t.Array(t.Integer())),
    }),
  ),
  created_at: t.String(),
  started_at: t.Nullable(t.String()),
  stopped_at: t.Nullable(t.String()),
  updated_at: t.String(),
});
