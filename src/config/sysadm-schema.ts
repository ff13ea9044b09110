// [sysadm]: where TrueOS sysadm's iohyve class is served (its wss and https listeners) and their TLS pair (berth.toml).
import { Type as T } from "@sinclair/typebox";
import { OptionalListenSchema } from "./listen.ts";

export const SysadmSchema = T.Object(
  {
    enabled: T.Boolean({
      default: true,
      description:
        "serve sysadm's iohyve class (wss on listen_ws, https on listen_rest, PUT /sysadm/iohyve); false: not served",
    }),
    listen_ws: {
      ...OptionalListenSchema('host:port of sysadm\'s WebSocket listener (wss; sysadm used 12150); "": none'),
      default: "127.0.0.1:12150",
    },
    listen_rest: {
      ...OptionalListenSchema('host:port of sysadm\'s REST listener (https; sysadm used 12151); "": none'),
      default: "127.0.0.1:12151",
    },
    network: T.String({
      default: "",
      description:
        'the berth network a guest made by iohyve create gets its NIC on (iohyve\'s tap on its setup nic); "": none',
    }),
    auth_timeout_s: T.Integer({
      minimum: 1,
      maximum: 3600,
      default: 30,
      description: "seconds a WebSocket may stay unauthenticated before it is closed (sysadm's 30)",
    }),
    cert_file: T.String({
      default: "",
      description:
        'PEM certificate of both listeners; "": a self-signed pair made at first start in data_dir/sysadm',
    }),
    key_file: T.String({ default: "", description: "PEM private key of cert_file (both set, or neither)" }),
  },
  { additionalProperties: false, default: {} },
);
