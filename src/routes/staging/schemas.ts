// TypeBox schemas of the staging agent's API: its request bodies (unknown fields rejected) and answers.
import { t } from "elysia";

const strict = { additionalProperties: false } as const;

export const HostParams = t.Object({ host: t.String({ description: "the host name, e.g. ns.example.com" }) });
export const NetworkParams = t.Object({
  network: t.String({ description: "the network name, e.g. ns_example_com_vlan_10" }),
});

export const CreateHostSchema = t.Object(
  {
    memory: t.Integer({
      minimum: 16,
      maximum: 4_194_304,
      description: "memory in MB (MiB, as virt-install)",
    }),
    disks: t.Array(t.Integer({ minimum: 1, maximum: 65536 }), {
      minItems: 1,
      maxItems: 16,
      description:
        "disk sizes in GB (GiB); the first is the root disk sda, the others sdb, sdc, … on virtio-scsi",
    }),
    networks: t.Array(t.String({ minLength: 1, maxLength: 253 }), {
      maxItems: 8,
      description: "networks (created with POST /networks/{network}), one NIC each, in order",
    }),
    install: t.Optional(
      t.Boolean({ description: "network install from location; without it the host boots from its disk" }),
    ),
    location: t.Optional(
      t.String({ minLength: 1, maxLength: 2048, description: "with install: URL of the install tree" }),
    ),
    cmdline: t.Optional(
      t.String({ maxLength: 4096, description: "with install: the installer's kernel command line" }),
    ),
  },
  strict,
);

export const CreateNetworkSchema = t.Object(
  {
    bridge: t.String({ minLength: 1, maxLength: 15, description: "the Open vSwitch bridge to attach to" }),
    vlan: t.Integer({ minimum: 1, maximum: 4094, description: "VLAN tag of the access port" }),
  },
  strict,
);

export const HostSchema = t.Object({
  id: t.String({ description: "berth's id of the VM" }),
  name: t.String({ description: "the host name" }),
  state: t.String({
    description:
      "as virsh says it: running, idle, paused, in shutdown, shut off, crashed, pmsuspended, no state; or creating, gone (the domain vanished), unknown (libvirtd unreachable)",
  }),
});

export const NetworkSchema = t.Object({
  name: t.String(),
  state: t.Union([t.Literal("active"), t.Literal("inactive")]),
  autostart: t.Union([t.Literal("yes"), t.Literal("no")]),
  persistent: t.Union([t.Literal("yes"), t.Literal("no")]),
});

export const ErrorSchema = t.Object({ error: t.String() });

/** OpenAPI descriptions of the statuses a route answers besides its success. */
export function described(pairs: Record<number, string>): Record<string, { description: string }> {
  return Object.fromEntries(Object.entries(pairs).map(([code, description]) => [code, { description }]));
}
