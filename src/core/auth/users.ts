// The users who may log in: [auth] users plus those of [auth] users_file, checked and loaded once per config.
import { readFileSync } from "node:fs";
import { type Static, Type as T } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { type AuthUser, AuthUserSchema, type Config } from "../../config/schema.ts";
import { ConfigError } from "../../errors.ts";

const UsersFileSchema = T.Object({ users: T.Array(AuthUserSchema) }, { additionalProperties: false });

const loaded = new WeakMap<Config, ReadonlyMap<string, AuthUser>>();

/** Every user by name; throws ConfigError for an unreadable or invalid users file or a duplicate name. */
export function usersOf(config: Config): ReadonlyMap<string, AuthUser> {
  const cached = loaded.get(config);
  if (cached) return cached;
  const all = [
    ...config.auth.users,
    ...(config.auth.users_file ? readUsersFile(config.auth.users_file) : []),
  ];
  const byName = new Map<string, AuthUser>();
  for (const u of all) {
    if (byName.has(u.name)) throw new ConfigError(`auth: user ${u.name} is declared twice`);
    byName.set(u.name, u);
  }
  loaded.set(config, byName);
  return byName;
}

/** Reads a users file: TOML, or JSON when its name ends in .json; {users: [{name, password_hash, admin}]}. */
export function readUsersFile(path: string): AuthUser[] {
  let raw: unknown;
  try {
    const text = readFileSync(path, "utf8");
    raw = path.endsWith(".json") ? JSON.parse(text) : Bun.TOML.parse(text);
  } catch (e) {
    throw new ConfigError(`auth.users_file ${path}: ${(e as Error).message}`);
  }
  const withDefaults = Value.Default(UsersFileSchema, Value.Clone(raw));
  const problems = [...Value.Errors(UsersFileSchema, withDefaults)].map(
    (e) => `${path}: ${e.path.slice(1).replaceAll("/", ".") || "(top level)"}: ${e.message}`,
  );
  if (problems.length > 0) {
    throw new ConfigError(`auth.users_file ${path} is invalid:\n  ${problems.join("\n  ")}`, problems);
  }
  return (withDefaults as Static<typeof UsersFileSchema>).users;
}

// Verifying against this when the user is unknown takes as long as for a known one: no user enumeration.
let dummyHash: Promise<string> | null = null;

/** The user when `password` is theirs, else null; takes the same time for unknown users. */
export async function verifyPassword(
  config: Config,
  name: string,
  password: string,
): Promise<AuthUser | null> {
  const user = usersOf(config).get(name);
  dummyHash ??= Bun.password.hash("berth: no such user", { algorithm: "argon2id" });
  const hash = user?.password_hash ?? (await dummyHash);
  let ok: boolean;
  try {
    ok = await Bun.password.verify(password, hash);
  } catch (e) {
    // A hash Bun cannot read is a configuration mistake; refusing the login is the safe answer.
    throw new ConfigError(
      `auth: the password hash of user ${name} is not a valid hash: ${(e as Error).message}`,
    );
  }
  return ok && user ? user : null;
}
