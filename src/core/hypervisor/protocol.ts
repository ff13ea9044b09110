// Messages between the HTTP thread and the hypervisor Workers / event pump: plain, structured-cloneable data.
import type { LifecycleEvent } from "../../ffi/constants.ts";

export interface WireError {
  /** "libvirt": libvirt refused; "unavailable": no connection to the daemon; "internal": a bug. */
  kind: "libvirt" | "unavailable" | "internal";
  message: string;
  libvirtCode?: number;
  libvirtDomain?: number;
}

export type ToWorker =
  | { type: "init"; uri: string }
  | { type: "call"; id: number; op: string; args: unknown }
  | { type: "reset" };

export type FromWorker =
  | { type: "result"; id: number; ok: true; value: unknown }
  | { type: "result"; id: number; ok: false; error: WireError; disconnected: boolean };

/** To the process's one event pump; `client` names the hypervisor client a connection belongs to. */
export type ToPump =
  | { type: "connect"; client: number; uri: string }
  | { type: "disconnect"; client: number }
  | { type: "stop" };

/** What the event pump tells about one connection. */
export type PumpEvent =
  | { type: "connected" }
  | { type: "closed"; reason: string }
  | { type: "lifecycle"; name: string; uuid: string; event: LifecycleEvent; detail: number };

/** From the event pump, about the connection of `client`. */
export type FromPump = { client: number } & PumpEvent;
