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
