// What a reload of [[auth.users]] changed, and the tokens of users who are gone (revoked, so a namesake added later cannot use them).
import type { AuthUser } from "../../config/schema.ts";
import { deleteToken, tokensOf, tokenUsers } from "../../db/tokens.ts";
import type { Core } from "../context.ts";

export interface UsersChange {
  added: string[];
  removed: string[];
  /** Users whose password hash, role or projects changed. */
  changed: string[];
}

/** Pure: which users `after` adds, drops or changes against `before`. */
export function usersChange(
  before: ReadonlyMap<string, AuthUser>,
  after: ReadonlyMap<string, AuthUser>,
): UsersChange {
  const c: UsersChange = { added: [], removed: [], changed: [] };
  for (const [name, u] of after) {
    const old = before.get(name);
    if (!old) c.added.push(name);
    else if (JSON.stringify(old) !== JSON.stringify(u)) c.changed.push(name);
  }
  for (const name of before.keys()) if (!after.has(name)) c.removed.push(name);
  return c;
}

/**
 * Deletes every token whose user is not in `users` (inside the reload's transaction): removed now, or
 * gone while berth was stopped; returns what it deleted.
 */
export function deleteTokensOfGoneUsers(
  core: Core,
  users: ReadonlyMap<string, AuthUser>,
): { id: string; user: string }[] {
  const gone: { id: string; user: string }[] = [];
  for (const user of tokenUsers(core.db)) {
    if (users.has(user)) continue;
    for (const row of tokensOf(core.db, user))
      if (deleteToken(core.db, row.id)) gone.push({ id: row.id, user });
  }
  return gone;
}

/** Publishes token.revoked (an audit line) for each token deleted, once the change is committed. */
export function announceRevoked(core: Core, gone: { id: string; user: string }[]): void {
  for (const t of gone)
    core.events.publish("token.revoked", `user/${t.user}`, { id: t.id, reason: "user removed" });
}
