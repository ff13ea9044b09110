// [vmpooler]: where vmpooler's API is served and how it answers (berth.toml).
import { Type as T } from "@sinclair/typebox";
import { OptionalListenSchema } from "./listen.ts";

const strict = { additionalProperties: false } as const;

/** vmpooler's API front (served under `prefix`, /api/v1 by default). */
export const VmpoolerSchema = T.Object(
  {
    enabled: T.Boolean({
      default: true,
      description: "serve vmpooler's API and dashboard stats; false: those paths are unknown (404)",
    }),
    prefix: T.String({
      // Letters, digits, _ and - only (the auth guard builds its path patterns from it); a path
      // another front on the same listener serves is refused by src/config/fronts.ts.
      pattern: "^(/[A-Za-z0-9_-]{1,32}){0,4}$",
      default: "/api/v1",
      description:
        'the path vmpooler\'s API is served under (/api/v1 as vmpooler; /api/v2 for newer clients; "": at the root, /vm, /status, ...)',
    }),
    listen: OptionalListenSchema(
      "host:port of a listener of vmpooler's own, answering under prefix and at the root paths (as vmpooler's reroute.rb did); \"\": none",
    ),
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
