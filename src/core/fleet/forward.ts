// Requests one host forwards to another: signed with the fleet secret and carrying the caller's name, checked on arrival.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Caller } from "../auth/caller.ts";
import { Unauthorized } from "../auth/errors.ts";
import { usersOf } from "../auth/index.ts";
import type { Core } from "../context.ts";
import { HostUnreachable } from "./errors.ts";
import type { Fleet } from "./fleet.ts";
import type { HostRecord } from "./members.ts";

/** The headers of a forwarded request; a request from outside the fleet that carries them without a valid signature is refused. */
export const FLEET_HEADERS = {
  from: "x-berth-fleet-from",
  caller: "x-berth-fleet-caller",
  time: "x-berth-fleet-time",
  nonce: "x-berth-fleet-nonce",
  signature: "x-berth-fleet-signature",
} as const;

/** How far a forwarded request's clock may be off; a signature is accepted once within it. */
const WINDOW_MS = 30_000;
/** The longest a forwarded call may take (a create with ?wait waits up to 300 s on the other host). */
const FORWARD_TIMEOUT_MS = 330_000;
/** Headers that carry the caller's own credentials: the receiving host gets the caller's name instead. */
const CREDENTIALS = [
  "authorization",
  "x-auth-token",
  "cookie",
  "sec-websocket-protocol",
  "host",
  "content-length",
];

function signed(secret: string, parts: string[]): string {
  return createHmac("sha256", secret).update(parts.join("\n")).digest("hex");
}

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

const bodyHash = (body: Uint8Array) => createHash("sha256").update(body).digest("hex");

/** Forwards `request` (its body already read) to `host` on behalf of `caller`; the answer is passed back as is. */
export async function forwardTo(
  fleet: Fleet,
  host: HostRecord,
  request: Request,
  body: Uint8Array,
  caller: Caller | null,
): Promise<Response> {
  const path = pathOf(request.url);
  const headers = new Headers(request.headers);
  for (const h of CREDENTIALS) headers.delete(h);
  for (const [k, v] of Object.entries(fleetHeaders(fleet, request.method, path, caller, body)))
    headers.set(k, v);
  try {
    const answer = await fetch(host.api + path, {
      method: request.method,
      headers,
      body: body.length > 0 ? body : undefined,
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      redirect: "manual",
    });
    // The body is re-sent as read: the encoding and length headers of the other host's answer no longer apply.
    const out = new Headers(answer.headers);
    out.delete("content-encoding");
    out.delete("content-length");
    out.set("x-berth-host", host.name);
    return new Response(await answer.arrayBuffer(), { status: answer.status, headers: out });
  } catch (e) {
    throw new HostUnreachable(`host ${host.name} (${host.api}) did not answer`, { cause: e });
  }
}

/** The fleet headers that sign `method path` with `body` for `caller` (a WebSocket handshake's, where no Request is forwarded). */
export function fleetHeaders(
  fleet: Fleet,
  method: string,
  path: string,
  caller: Caller | null,
  body: Uint8Array = new Uint8Array(),
): Record<string, string> {
  const time = String(Date.now());
  const nonce = randomBytes(16).toString("hex");
  const who = caller?.name ?? "";
  return {
    [FLEET_HEADERS.from]: fleet.name,
    [FLEET_HEADERS.caller]: who,
    [FLEET_HEADERS.time]: time,
    [FLEET_HEADERS.nonce]: nonce,
    [FLEET_HEADERS.signature]: signed(fleet.secret, [
      method,
      path,
      time,
      nonce,
      fleet.name,
      who,
      bodyHash(body),
    ]),
  };
}

/**
 * A request this host itself makes to another host (a migration's steps): signed as a forwarded request with
 * no caller, its answer returned as a stream (a disk is not buffered). Non-2xx answers are the caller's to read.
 */
export async function fleetRequest(
  fleet: Fleet,
  host: Pick<HostRecord, "name" | "api">,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = FORWARD_TIMEOUT_MS,
): Promise<Response> {
  const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
  const headers = new Headers(fleetHeaders(fleet, method, path, null, bytes));
  if (body !== undefined) headers.set("content-type", "application/json");
  try {
    return await fetch(host.api + path, {
      method,
      headers,
      body: bytes.length > 0 ? bytes : undefined,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
  } catch (e) {
    throw new HostUnreachable(`host ${host.name} (${host.api}) did not answer`, { cause: e });
  }
}

/** What a verified forwarded request says: the host it came from and the caller it acts for. */
export interface Forwarded {
  from: string;
  caller: Caller | null;
}

/**
 * The forwarded request's origin and caller, or null when `request` carries no fleet signature. The
 * signature must verify with this host's fleet secret, within WINDOW_MS, once; the caller must be a user
 * this host knows, and their rights (admin) are this host's, never the sender's.
 */
export function verifyForwarded(
  core: Core,
  request: Request,
  body: Uint8Array,
  seen: Map<string, number>,
): Forwarded | null {
  const h = request.headers;
  const signature = h.get(FLEET_HEADERS.signature);
  const present = Object.values(FLEET_HEADERS).some((k) => h.get(k) !== null);
  if (!present) return null;
  const refuse = (why: string) => new Unauthorized(`forwarded request refused: ${why}`);
  const fleet = core.fleet;
  if (!fleet) throw refuse("this host is not in a fleet");
  const [from, who, time, nonce] = [
    FLEET_HEADERS.from,
    FLEET_HEADERS.caller,
    FLEET_HEADERS.time,
    FLEET_HEADERS.nonce,
  ].map((k) => h.get(k) ?? "") as [string, string, string, string];
  if (!signature || !from || !time || !nonce) throw refuse("incomplete fleet headers");
  const expected = signed(fleet.secret, [
    request.method,
    pathOf(request.url),
    time,
    nonce,
    from,
    who,
    bodyHash(body),
  ]);
  const a = Buffer.from(signature);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw refuse("bad signature");
  const now = Date.now();
  if (!(Math.abs(now - Number(time)) <= WINDOW_MS)) throw refuse("outside the time window");
  // Insertion order is time order: the expired nonces are at the front.
  for (const [n, at] of seen) {
    if (now - at <= 2 * WINDOW_MS) break;
    seen.delete(n);
  }
  if (seen.has(nonce)) throw refuse("replayed");
  seen.set(nonce, now);
  if (who === "") return { from, caller: null };
  const user = usersOf(core.config).get(who);
  if (!user && core.config.auth.enabled) throw refuse(`user ${who} is not known on this host`);
  return { from, caller: { name: who, admin: user?.admin ?? false, tokenId: null } };
}
