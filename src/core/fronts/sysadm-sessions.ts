// sysadm's session tokens: 20 alphanumerics for a berth user, in memory, with a sliding lifetime bumped on every authorized request.
import { authenticatePassword, type Caller } from "../auth/index.ts";
import type { Core } from "../context.ts";

/** Seconds a token lives without use (sysadm's 900). */
export const SYSADM_TOKEN_SECONDS = 900;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

interface Session {
  caller: Caller | null;
  expires: number;
}

/** One berth's sysadm sessions (per core: tokens do not outlive the process, as sysadm's did not). */
const stores = new WeakMap<Core, Map<string, Session>>();

function store(core: Core): Map<string, Session> {
  let s = stores.get(core);
  if (!s) {
    s = new Map();
    stores.set(core, s);
  }
  return s;
}

function newToken(): string {
  // 62 letters: rejection keeps each one uniform (256 is not a multiple of 62).
  let out = "";
  while (out.length < 20) {
    for (const b of crypto.getRandomValues(new Uint8Array(32))) {
      if (b < 248 && out.length < 20) out += ALPHABET[b % 62];
    }
  }
  return out;
}

function issue(core: Core, caller: Caller | null): [string, number] {
  const sessions = store(core);
  // Expired sessions go as new ones come (logins are throttled), so the map stays bounded.
  for (const [t, s] of sessions) if (s.expires <= Date.now()) sessions.delete(t);
  const token = newToken();
  sessions.set(token, { caller, expires: Date.now() + SYSADM_TOKEN_SECONDS * 1000 });
  return [token, SYSADM_TOKEN_SECONDS];
}

/** rpc/auth: a berth user's name and password (core's throttle applies); with auth off anyone is let in. */
export async function sysadmLogin(
  core: Core,
  user: string,
  password: string,
  address: string | null,
): Promise<{ caller: Caller | null; reply: [string, number] }> {
  const caller = core.config.auth.enabled
    ? await authenticatePassword(core, user, password, address, "sysadm")
    : null;
  return { caller, reply: issue(core, caller) };
}

/** rpc/auth_token: the caller of a live token (its lifetime starts again), or null when it is unknown or expired. */
export function sysadmResume(
  core: Core,
  token: string,
): { caller: Caller | null; reply: [string, number] } | null {
  const s = store(core).get(token);
  if (!s || s.expires <= Date.now()) {
    store(core).delete(token);
    return null;
  }
  s.expires = Date.now() + SYSADM_TOKEN_SECONDS * 1000;
  return { caller: s.caller, reply: [token, SYSADM_TOKEN_SECONDS] };
}

/** Whether `token` is still live; an authorized request slides its expiry. */
export function sysadmTouch(core: Core, token: string): boolean {
  return sysadmResume(core, token) !== null;
}

/** rpc/auth_clear: the token is forgotten. */
export function sysadmLogout(core: Core, token: string): void {
  store(core).delete(token);
}
