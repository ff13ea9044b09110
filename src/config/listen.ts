// A listen address ("host:port"): its schema, its parts and whether it stays on this machine.
import { Type as T } from "@sinclair/typebox";

const HOST_PORT = "(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}";

/** [listen]: always an address. */
export const ListenSchema = (fallback: string, description: string) =>
  T.String({ pattern: `^${HOST_PORT}$`, default: fallback, description });

/** [<front>] listen: an address, or "" for no listener of its own. */
export const OptionalListenSchema = (description: string) =>
  T.String({ pattern: `^(${HOST_PORT})?$`, default: "", description });

/** Splits a listen address into the hostname and port Bun.serve takes. */
export function parseListen(listen: string): { hostname: string; port: number } {
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  return { hostname: host, port: Number(listen.slice(i + 1)) };
}

export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\./.test(hostname);
}
