// The errors of authentication and authorization: 401 with the challenge to send, 403, and auth being off.
import { AppError } from "../../errors.ts";

export type Challenge = "Basic" | "Bearer";

/** 401: credentials missing or wrong; `challenge` is what the WWW-Authenticate header asks for. */
export class Unauthorized extends AppError {
  constructor(
    message: string,
    readonly challenge: Challenge = "Bearer",
  ) {
    super(401, "unauthorized", message);
  }
}

/** 403: an admin-only action (images, sizes, profiles, networks, pools, raw XML, others' objects). */
export class Forbidden extends AppError {
  constructor(message: string) {
    super(403, "forbidden", message);
  }
}

/** 403: the VM was checked out by someone else. */
export class NotOwner extends AppError {
  constructor(message: string) {
    super(403, "not_owner", message);
  }
}

/** 403: the user already holds as many VMs as [auth] max_running_vms_per_user allows. */
export class QuotaExceeded extends AppError {
  constructor(message: string, details: Record<string, unknown>) {
    super(403, "quota_exceeded", message, { details });
  }
}

/** 404: token routes exist only while [auth] enabled is true. */
export class AuthDisabled extends AppError {
  constructor() {
    super(404, "auth_disabled", "authentication is disabled ([auth] enabled = false): there are no tokens");
  }
}
