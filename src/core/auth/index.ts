// Authentication and authorization: users, tokens, ownership of checked-out VMs, quotas, start-up checks.
export { type Caller, presentedBasic, presentedToken } from "./caller.ts";
export { AuthDisabled, type Challenge, NotOwner, QuotaExceeded, Unauthorized } from "./errors.ts";
export { assertOwner } from "./ownership.ts";
export { checkQuota } from "./quota.ts";
export { assertSafeListen, checkAuthConfig } from "./startup.ts";
export {
  authenticatePassword,
  authenticateToken,
  hashToken,
  type IssuedToken,
  issueToken,
  listTokens,
  revokeToken,
  type TokenView,
} from "./tokens.ts";
export { readUsersFile, usersOf, verifyPassword } from "./users.ts";
