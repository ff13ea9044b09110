// The table of every operation a hypervisor Worker runs; its type gives the main thread typed calls.
import type { Connection } from "../../../ffi/index.ts";
import { domainOps } from "./domain-ops.ts";
import { domainScanOps } from "./domain-scan.ts";
import { hostOps } from "./host-ops.ts";
import { networkOps } from "./network-ops.ts";
import { secretOps } from "./secret-ops.ts";
import { snapshotOps } from "./snapshot-ops.ts";
import { storageOps } from "./storage-ops.ts";

export const ops = {
  ...hostOps,
  ...domainOps,
  ...domainScanOps,
  ...snapshotOps,
  ...networkOps,
  ...storageOps,
  ...secretOps,
};

export type Ops = typeof ops;
export type OpName = keyof Ops;
export type OpArgs<K extends OpName> = Parameters<Ops[K]>[1];
export type OpResult<K extends OpName> = ReturnType<Ops[K]>;

/** Calls that can wait on a guest or on disk I/O get the long deadline. */
export const LONG_OPS: ReadonlySet<OpName> = new Set<OpName>([
  "domain.create",
  "domain.destroy",
  "domain.shutdown",
  "domain.reboot",
  "domain.managedSave",
  "domain.undefine",
  "domain.migrate",
  "snapshot.create",
  "snapshot.revert",
  "snapshot.delete",
  "volume.create",
  "volume.createSpec",
  "volume.createFrom",
  "volume.delete",
  "volume.resize",
  "pool.build",
  "pool.create",
  "debug.blockLong",
]);

export function runOp(c: Connection, op: string, args: unknown): unknown {
  const fn = (ops as Record<string, (c: Connection, a: unknown) => unknown>)[op];
  if (!fn) throw new Error(`unknown hypervisor operation ${op}`);
  return fn(c, args ?? {});
}
