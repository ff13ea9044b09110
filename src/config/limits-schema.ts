// [limits] and [capacity]: what one client can make berth hold, and how much of the host berth's VMs may take.
import { type Static, Type as T } from "@sinclair/typebox";

const strict = { additionalProperties: false } as const;

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

export type LimitsConfig = Static<typeof LimitsSchema>;
