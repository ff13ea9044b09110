// tokens table: API tokens by the SHA-256 of their secret (the secret itself is never stored).
import type { Database } from "bun:sqlite";

export interface TokenRow {
  id: string;
  user: string;
  token_hash: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export function insertToken(db: Database, r: TokenRow): void {
  db.query(
    `INSERT INTO tokens (id, user, token_hash, created_at, expires_at, last_used_at)
     VALUES ($id, $user, $token_hash, $created_at, $expires_at, $last_used_at)`,
  ).run(r as unknown as Record<string, string | null>);
}

/** The hash is the lookup key: a presented token is hashed, then found by exact match. */
export function tokenByHash(db: Database, tokenHash: string): TokenRow | null {
  return db.query("SELECT * FROM tokens WHERE token_hash = ?").get(tokenHash) as TokenRow | null;
}

export function tokenById(db: Database, id: string): TokenRow | null {
  return db.query("SELECT * FROM tokens WHERE id = ?").get(id) as TokenRow | null;
}

export function tokensOf(db: Database, user: string): TokenRow[] {
  return db.query("SELECT * FROM tokens WHERE user = ? ORDER BY created_at, id").all(user) as TokenRow[];
}

export function touchToken(db: Database, id: string, at: string): void {
  db.query("UPDATE tokens SET last_used_at = ? WHERE id = ?").run(at, id);
}

export function deleteToken(db: Database, id: string): boolean {
  return db.query("DELETE FROM tokens WHERE id = ?").run(id).changes > 0;
}

/** Removes tokens whose expiry has passed; ISO 8601 UTC strings order as times. */
export function deleteExpiredTokens(db: Database, at: string): number {
  return db.query("DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?").run(at).changes;
}

/** The users who hold at least one token. */
export function tokenUsers(db: Database): string[] {
  return (db.query("SELECT DISTINCT user FROM tokens ORDER BY user").all() as { user: string }[]).map(
    (r) => r.user,
  );
}
