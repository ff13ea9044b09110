// [auth]: users, tokens, roles, quotas and who sees what (berth.toml).
import { type Static, Type as T } from "@sinclair/typebox";
import { PROJECT_NAME } from "../patterns.ts";

const strict = { additionalProperties: false } as const;

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
    projects: T.Optional(
      T.Array(T.String({ pattern: PROJECT_NAME }), {
        minItems: 1,
        maxItems: 1000,
        uniqueItems: true,
        description:
          "the only projects this user may create VMs in, see VMs of and move VMs between (exact names); absent: any project; admins: always any",
      }),
    ),
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

export type AuthConfig = Static<typeof AuthSchema>;
export type AuthUser = Static<typeof AuthUserSchema>;
