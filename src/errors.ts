// The one error model: every failure berth reports is an AppError with a stable code and an HTTP status.

export interface AppErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * `errorCode`, not `code`: Elysia treats a property named `code` as its own error kind.
 * `httpStatus`, not `status`: Elysia would otherwise answer with it before our mapping runs.
 */
export class AppError extends Error {
  override name = "AppError";
  readonly details: Record<string, unknown> | undefined;
  constructor(
    readonly httpStatus: number,
    readonly errorCode: string,
    message: string,
    opts: AppErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.details = opts.details;
  }
}

export class BadRequest extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(400, "invalid_request", message, opts);
  }
}

export class NotFound extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(404, "not_found", message, opts);
  }
}

export class Conflict extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(409, "conflict", message, opts);
  }
}

export class HypervisorUnavailable extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(503, "hypervisor_unavailable", message, opts);
  }
}

export class HypervisorTimeout extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(504, "hypervisor_timeout", message, opts);
  }
}

/** A hypervisor call that libvirt refused for a reason berth does not translate further. */
export class HypervisorError extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(502, "hypervisor_error", message, opts);
  }
}

/** The disk berth writes to (the image storage pool, or the data directory with its database) is full. */
export class InsufficientStorage extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(507, "insufficient_storage", message, opts);
  }
}

/** The host's vCPUs or memory, with their overcommit ratios, cannot take what a request asks for. */
export class CapacityExceeded extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(409, "capacity_exceeded", message, opts);
  }
}

/** ENOSPC as libvirt and qemu-img word it, and SQLite's SQLITE_FULL message (case-sensitive: names are lowercase). */
const NO_SPACE = /No space left on device|ENOSPC|Disk quota exceeded|database or disk is full/;

/** True when a low-level failure means the disk is full: SQLITE_FULL, ENOSPC, or their messages. */
export function isNoSpace(e: unknown): boolean {
  if (e instanceof InsufficientStorage) return true;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT") return true;
  return NO_SPACE.test(e instanceof Error ? e.message : String(e));
}

/** The 507 a disk-full failure stands for (keeping it as the cause), or null for any other failure. */
export function asInsufficientStorage(e: unknown, what: string): InsufficientStorage | null {
  if (e instanceof InsufficientStorage) return e;
  if (!isNoSpace(e)) return null;
  const reason = e instanceof Error ? e.message : String(e);
  return new InsufficientStorage(`${what}: out of disk space (${reason})`, { cause: e });
}

/** SQLite's write lock stayed with another connection (the pool members' Worker, the WAL checkpointer) past the wait: retry. */
export class DatabaseBusy extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(503, "database_busy", message, opts);
  }
}

/** True for SQLITE_BUSY and SQLITE_LOCKED and their extended codes (SQLITE_BUSY_SNAPSHOT, …). */
export function isDatabaseBusy(e: unknown): boolean {
  if (e instanceof DatabaseBusy) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^SQLITE_(BUSY|LOCKED)(_|$)/.test(code);
}

/** The 503 a busy database stands for (keeping it as the cause), or null for any other failure. */
export function asDatabaseBusy(e: unknown, what: string): DatabaseBusy | null {
  if (e instanceof DatabaseBusy) return e;
  if (!isDatabaseBusy(e)) return null;
  const reason = e instanceof Error ? e.message : String(e);
  return new DatabaseBusy(`${what}: the database stayed busy (${reason}); nothing was changed, try again`, {
    cause: e,
  });
}

export class ConfigError extends AppError {
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(500, "config_invalid", message);
  }
}

export class DatabaseError extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(500, "database_error", message, opts);
  }
}
