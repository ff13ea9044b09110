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
    migration_tls: T.Boolean({
      default: false,
      description:
        "live migrations ask libvirt for TLS (VIR_MIGRATE_TLS): QEMU's migration stream and disk copy are encrypted with the x509 certificates of qemu.conf's migrate_tls_x509_cert_dir (default /etc/pki/qemu) on both hosts",
    }),
    libvirt_transport: T.Union([T.Literal("tcp"), T.Literal("tls")], {
      default: "tcp",
      description:
        "how this host's libvirtd connects to the destination's for a live migration (peer to peer): tcp = qemu+tcp:// (port 16509, no encryption), tls = qemu+tls:// (port 16514, x509 certificates both ways: libvirt's /etc/pki/CA and /etc/pki/libvirt)",
    }),
    libvirt_pki_path: T.String({
      pattern: "^(/[A-Za-z0-9._/-]*)?$",
      maxLength: 256,
      default: "",
      description:
        "with libvirt_transport = tls: the directory of this host's libvirt client certificate (cacert.pem, clientcert.pem, clientkey.pem), given to libvirt as the URI's pkipath; empty: libvirt's defaults (/etc/pki/CA/cacert.pem, /etc/pki/libvirt/clientcert.pem, /etc/pki/libvirt/private/clientkey.pem)",
    }),
    fence_address: T.String({
      pattern: "^([0-9.]{7,15}|[0-9A-Fa-f:]{2,39})?$",
      default: "",
      description:
        "the IP address this host's Ceph clients (its QEMUs) use; another host recovering this host's VMs blocklists it at Ceph first. Empty: migration_address",
    }),
    migration_bandwidth_mib: T.Integer({
      minimum: 0,
      maximum: 1_048_576,
      default: 0,
      description:
        "limit of each live migration from this host in MiB/s (libvirt's VIR_MIGRATE_PARAM_BANDWIDTH; it also limits each disk copy); 0: unlimited",
    }),
    migration_port: T.Integer({
      minimum: 0,
      maximum: 65_535,
      default: 0,
      description:
        "port this host's QEMU takes incoming live migrations on (sent as migrate_uri tcp://<migration_address>:<port>); 0: libvirt picks one of qemu.conf's migration_port_min..max (49152-49215)",
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
