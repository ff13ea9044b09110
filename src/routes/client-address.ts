// The client address of a request, also for one berth re-dispatched internally (a merged-slash path), whose socket Bun does not know.
import type { Server } from "bun";

const forwarded = new WeakMap<Request, string | null>();

/** The address of `request`'s client; null in process (app.handle without a server). */
export function clientAddress(request: Request, server: Server<unknown> | null | undefined): string | null {
  return server?.requestIP(request)?.address ?? forwarded.get(request) ?? null;
}

/** `inner` is `outer` answered again under another URL: it comes from the same client. */
export function sameClient(inner: Request, outer: Request, server: Server<unknown> | null | undefined): void {
  forwarded.set(inner, clientAddress(outer, server));
}
