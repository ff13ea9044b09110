// Authentication and authorization: users, tokens, ownership of checked-out VMs, projects, quotas, start-up checks.

export { actsAsAdmin, ownerNameOf, requireAdmin, requireCaller, SYSTEM } from "./access.ts";
export { type Caller, presentedBasic, presentedToken } from "./caller.ts";
export { AuthDisabled, type Challenge, Forbidden, NotOwner, QuotaExceeded, Unauthorized } from "./errors.ts";
export { eventFeedFor, eventFilterFor } from "./event-access.ts";
export { assertProject, mayUseProject, projectsOf } from "./projects.ts";
export { checkQuota, type Usage } from "./quota.ts";
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
export {
  assertVmActor,
  assertVmSecrets,
  assertVmVisible,
  sightOf,
  type VmSight,
  vmSight,
} from "./vm-access.ts";
