// [staging]: whether the staging hypervisor agent's API (/hosts, /networks) is served (berth.toml).
import { Type as T } from "@sinclair/typebox";
import { OptionalListenSchema } from "./listen.ts";

export const StagingSchema = T.Object(
  {
    enabled: T.Boolean({
      default: true,
      description: "serve the staging agent's /hosts and /networks; false: those paths are unknown (404)",
    }),
    listen: OptionalListenSchema(
      'host:port of a listener of the staging agent\'s own (it also answers on [listen]); "": none',
    ),
  },
  { additionalProperties: false, default: {} },
);
