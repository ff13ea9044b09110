// The messages between the pool scheduler (HTTP thread) and the Worker its members are created in.
import type { Config } from "../../config/schema.ts";
import type { Level } from "../../log.ts";
import type { MemberCreate } from "./member-create.ts";

/** An error as it crosses the thread: what an AppError answers with. */
export interface WireAppError {
  status: number;
  code: string;
  message: string;
}

export type ToMembers =
  | { kind: "start"; config: Config; hypervisor: string }
  /** `logLevel`: the HTTP thread's level now (a reload may have changed it). */
  | { kind: "create"; member: MemberCreate; logLevel: Level }
  | { kind: "cancel"; operation: string }
  | { kind: "stop" };

/** The Worker posts its messages in batches, one per turn of its event loop: fewer wake-ups of the HTTP thread. */
export type FromMembersBatch = FromMembers[];

export type FromMembers =
  | { kind: "ready" }
  | { kind: "start-failed"; error: WireAppError }
  | { kind: "created"; operation: string }
  | { kind: "refused"; operation: string; error: WireAppError }
  /** An event the Worker's work published: the HTTP thread's bus publishes it. */
  | { kind: "event"; type: string; target: string; data: Record<string, unknown> }
  /** A log line, already at or above the level it was sent with. */
  | { kind: "log"; line: string }
  | { kind: "stopped" };
