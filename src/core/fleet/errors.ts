// The fleet's errors: etcd cannot be reached, or the host that holds a VM cannot.
import { AppError, type AppErrorOptions } from "../../errors.ts";

export class FleetUnavailable extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(503, "fleet_unavailable", message, opts);
  }
}

export class HostUnreachable extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(503, "host_unreachable", message, opts);
  }
}

/** A fleet-only action (migrate) on a host with no [fleet]: nowhere to move a VM to. */
export class NotInFleet extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super(409, "not_in_fleet", message, opts);
  }
}

/** Another host's error answer to a step this host asked of it, as an AppError of the same status and code. */
export async function answerError(r: Response, what: string): Promise<AppError> {
  const text = await r.text();
  let code = "fleet_step_failed";
  let message = text;
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    code = e?.code ?? code;
    message = e?.message ?? text;
  } catch {
    message = text; // not berth's error shape: passed on as text
  }
  return new AppError(r.status >= 400 ? r.status : 502, code, `${what}: ${message}`);
}
