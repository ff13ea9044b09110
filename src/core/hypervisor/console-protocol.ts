// Messages between the HTTP thread and the console Worker: serial console bytes, plain structured-cloneable data.
import type { WireError } from "./protocol.ts";

export type ToConsole =
  | { type: "init"; uri: string }
  | { type: "console-open"; id: number; name: string; force: boolean }
  | { type: "console-write"; id: number; data: Uint8Array }
  | { type: "console-close"; id: number }
  /** Abort every stream and close the connection, then answer console-stopped. */
  | { type: "console-stop" };

export type FromConsole =
  | { type: "console-opened"; id: number }
  | { type: "console-failed"; id: number; error: WireError }
  | { type: "console-data"; id: number; data: Uint8Array }
  | { type: "console-end"; id: number; reason: string }
  | { type: "console-stopped" };

export const CONSOLE_MESSAGES: ReadonlySet<string> = new Set([
  "console-open",
  "console-write",
  "console-close",
  "console-stop",
]);
