// [kahu]: where Kahu's API (/v0/compute, /v0/tenant/<id>/compute) is served (berth.toml).
import { Type as T } from "@sinclair/typebox";
import { OptionalListenSchema } from "./listen.ts";

export const KahuSchema = T.Object(
  {
    enabled: T.Boolean({
      default: true,
      description: "serve Kahu's API under prefix + /v0; false: those paths are unknown (404)",
    }),
    prefix: T.String({
      // Letters, digits, _ and - only (the auth guard builds its path patterns from it).
      pattern: "^(/[A-Za-z0-9_-]{1,32}){0,4}$",
      default: "",
      description:
        "a path before /v0, for clients whose base URL carries one (Kahu sat behind nginx under /kahu/<cluster>)",
    }),
    listen: OptionalListenSchema(
      "host:port of a listener of Kahu's own (Kahu's REST daemon listened on :8080), answering under prefix and at /v0; \"\": none",
    ),
  },
  { additionalProperties: false, default: {} },
);
