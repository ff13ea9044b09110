// API tokens: issued against a password, stored as SHA-256, listed and revoked by their owner only.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import {
  deleteExpiredTokens,
  deleteToken,
  insertToken,
  type TokenRow,
  tokenByHash,
  tokenById,
  tokensOf,
  touchToken,
} from "../../db/tokens.ts";
import { NotFound } from "../../errors.ts";
import { log } from "../../log.ts";
import type { Core } from "../context.ts";
import { newId } from "../names.ts";
import { now } from "../time.ts";
import type { Caller } from "./caller.ts";
import { AuthDisabled, Unauthorized } from "./errors.ts";
import { passwordThrottle, TooManyRequests } from "./throttle.ts";
import { usersOf, verifyPassword } from "./users.ts";

export interface TokenView {
  id: string;
  user: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

/** The answer to issuing: the only time the token itself is shown. */
export interface IssuedToken extends TokenView {
  token: string;
}

// Longer than any token berth issues (43 characters); a bound before hashing anything a client sends.
const MAX_TOKEN_LENGTH = 256;

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function view(r: TokenRow): TokenView {
  return {
    id: r.id,
    user: r.user,
    created_at: r.created_at,
    expires_at: r.expires_at,
    last_used_at: r.last_used_at,
  };
}

/** The caller of a token route: it exists only while auth is on, and the guard has authenticated it. */
function tokenCaller(core: Core, caller: Caller | null): Caller {
  if (!core.config.auth.enabled) throw new AuthDisabled();
  if (!caller) throw new Unauthorized("this route needs a token or a password");
  return caller;
}

/** Issues a token for the caller: 32 random bytes, base64url; only its SHA-256 is kept. */
export function issueToken(core: Core, caller: Caller | null): IssuedToken {
  const who = tokenCaller(core, caller);
  const created = new Date();
  const hours = core.config.auth.token_lifetime_hours;
  const token = randomBytes(32).toString("base64url");
  const row: TokenRow = {
    id: newId(),
    user: who.name,
    token_hash: hashToken(token),
    created_at: created.toISOString(),
    expires_at: hours > 0 ? new Date(created.getTime() + hours * 3_600_000).toISOString() : null,
    last_used_at: null,
  };
  deleteExpiredTokens(core.db, row.created_at);
  insertToken(core.db, row);
  core.events.publish("token.issued", `user/${who.name}`, { id: row.id, expires_at: row.expires_at });
  return { ...view(row), token };
}

export function listTokens(core: Core, caller: Caller | null): TokenView[] {
  return tokensOf(core.db, tokenCaller(core, caller).name).map(view);
}

/** Revokes one of the caller's own tokens (an admin: anyone's); another user's is a 404, as if absent. */
export function revokeToken(core: Core, caller: Caller | null, id: string): void {
  const who = tokenCaller(core, caller);
  const row = tokenById(core.db, id);
  if (!row || (row.user !== who.name && !who.admin)) {
    throw new NotFound(`token ${id} does not exist`);
  }
  deleteToken(core.db, id);
  core.events.publish("token.revoked", `user/${row.user}`, { id });
}

/** The user a presented token stands for; 401 when it is unknown, expired, or its user is gone. */
export function authenticateToken(core: Core, presented: string): Caller {
  if (presented.length === 0 || presented.length > MAX_TOKEN_LENGTH) throw new Unauthorized("invalid token");
  const hash = hashToken(presented);
  const row = tokenByHash(core.db, hash);
  // The hash found the row; comparing it again in constant time keeps the check itself free of timing leaks.
  if (!row || !timingSafeEqual(Buffer.from(row.token_hash, "hex"), Buffer.from(hash, "hex"))) {
    throw new Unauthorized("invalid token");
  }
  const at = now();
  if (row.expires_at !== null && row.expires_at <= at) throw new Unauthorized("the token has expired");
  const user = usersOf(core.config).get(row.user);
  if (!user) throw new Unauthorized("invalid token");
  touchToken(core.db, row.id, at);
  return { name: user.name, admin: user.admin, tokenId: row.id };
}

/** What an audit line says of the user name tried: bounded, as a client may send anything there. */
const MAX_LOGGED_NAME = 128;

/**
 * The user of an HTTP basic auth user and password; 401 (asking for Basic) when they do not match,
 * 429 when this user or `address` (the client's; null in process) tried too often, or too many wait.
 * Every attempt writes an audit line (`auth.login`: user, outcome, address, front), never the password.
 */
export async function authenticatePassword(
  core: Core,
  user: string,
  password: string,
  address: string | null = null,
  front: string | null = null,
): Promise<Caller> {
  const audit = (outcome: "success" | "failure" | "throttled") =>
    log[outcome === "success" ? "info" : "warn"]("auth.login", {
      audit: true,
      user: user.slice(0, MAX_LOGGED_NAME),
      outcome,
      address,
      front,
    });
  let found: Awaited<ReturnType<typeof verifyPassword>>;
  try {
    found = await passwordThrottle(core.config).run(user, address, () =>
      verifyPassword(core.config, user, password),
    );
  } catch (e) {
    if (e instanceof TooManyRequests) audit("throttled");
    throw e;
  }
  audit(found ? "success" : "failure");
  if (!found) throw new Unauthorized("wrong user name or password", "Basic");
  return { name: found.name, admin: found.admin, tokenId: null };
}
