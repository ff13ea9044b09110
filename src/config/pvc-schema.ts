// [pvc]: where PVC's old API v1 is served (its own listener only: its /api/v1 is vmpooler's path) and how it acts (berth.toml).
import { Type as T } from "@sinclair/typebox";
import { OptionalListenSchema } from "./listen.ts";

export const PvcSchema = T.Object(
  {
    enabled: T.Boolean({
      default: true,
      description: "serve PVC's API v1 on [pvc] listen; false: not served",
    }),
    listen: {
      ...OptionalListenSchema(
        'host:port of PVC\'s listener (PVC used 7370), answering at /api/v1; "": PVC is not served',
      ),
      default: "127.0.0.1:7370",
    },
    bridge: T.String({
      default: "br0",
      pattern: "^[A-Za-z0-9_.-]{1,15}$",
      description:
        "the Open vSwitch bridge PVC's bridged networks are VLANs on (created when missing and network.manage_bridges)",
    }),
    acl_table: T.String({
      default: "berth_pvc",
      pattern: "^[A-Za-z][A-Za-z0-9_]{0,31}$",
      description:
        "the nftables table (family inet) berth owns for PVC's network ACLs; nothing else in it survives",
    }),
    shutdown_timeout_s: T.Integer({
      minimum: 1,
      maximum: 3600,
      default: 90,
      description: "seconds a PVC shutdown waits for the guest's ACPI power-off before stopping it hard",
    }),
  },
  { additionalProperties: false, default: {} },
);
