// GET /v1/vms/{name}/console upgraded to a WebSocket: the VM's serial console, binary frames both ways.
import { Elysia, t } from "elysia";
import { Forbidden } from "../../core/auth/index.ts";
import type { Core } from "../../core/context.ts";
import { attachRemoteConsole } from "../../core/fleet/console-proxy.ts";
import type { ConsoleSession } from "../../core/hypervisor/console-hub.ts";
import { attachConsole } from "../../core/vms/console-session.ts";
import { callerOf } from "../auth.ts";
import { remoteConsoleOf } from "../fleet-console.ts";
import { CONSOLE_PROTOCOL, offeredProtocols } from "../socket-protocol.ts";
import { VmName } from "./vm-schemas.ts";

/** A session opened at the handshake and not yet given a socket is closed after this (a failed upgrade). */
const OPEN_GRACE_MS = 10_000;
/** WebSocket close codes: the console ended normally; text frames are refused (RFC 6455 1003). */
const CLOSE_NORMAL = 1000;
const CLOSE_UNSUPPORTED = 1003;

interface Sink {
  send(data: Uint8Array): unknown;
  close(code: number, reason: string): unknown;
}

/** One console session from handshake to close: bytes that arrive before the socket opens wait in `queue`. */
class Bridge {
  session: ConsoleSession | null = null;
  #sink: Sink | null = null;
  #queue: Uint8Array[] = [];
  #ended: string | null = null;
  readonly #grace = setTimeout(() => this.session?.close(), OPEN_GRACE_MS);

  data(bytes: Uint8Array): void {
    if (this.#sink) this.#sink.send(bytes);
    else this.#queue.push(bytes);
  }

  end(reason: string): void {
    clearTimeout(this.#grace);
    this.#ended = reason;
    this.#sink?.close(CLOSE_NORMAL, reason.slice(0, 120));
  }

  attach(sink: Sink): void {
    clearTimeout(this.#grace);
    this.#sink = sink;
    for (const b of this.#queue) sink.send(b);
    this.#queue = [];
    if (this.#ended !== null) sink.close(CLOSE_NORMAL, this.#ended.slice(0, 120));
  }

  detach(): void {
    clearTimeout(this.#grace);
    this.#sink = null;
    this.session?.close();
  }
}

const bridges = new WeakMap<Request, Bridge>();

/**
 * A browser always sends Origin; a cross-site page must not drive a console (WebSockets have no CORS),
 * so an Origin must name this very host. Clients that are not browsers send none.
 */
function assertSameOrigin(request: Request): void {
  const origin = request.headers.get("origin");
  if (origin === null) return;
  let host: string | null = null;
  try {
    host = new URL(origin).host;
  } catch {
    host = null;
  }
  if (host === null || host !== request.headers.get("host")) {
    throw new Forbidden(
      `a console WebSocket from origin ${origin} is refused: only this host's own pages may open one`,
    );
  }
}

export function vmConsoleSocketRoutes(core: Core) {
  return new Elysia({ prefix: "/v1/vms/:name" }).ws("/console", {
    params: t.Object({ name: VmName }),
    query: t.Object(
      {
        follow: t.Optional(
          t.Literal("1", { description: "accepted for symmetry with the log tail; always live" }),
        ),
        force: t.Optional(
          t.Literal("1", { description: "admins: take the console from the session holding it" }),
        ),
      },
      { additionalProperties: false },
    ),
    // `upgrade`, not beforeHandle: Elysia runs a ws route's beforeHandle twice (as a hook and by itself).
    async upgrade({ request, params, query, set }) {
      assertSameOrigin(request);
      const bridge = new Bridge();
      const name = String(params.name); // validated by `params` before upgrade runs; its context is untyped
      const handlers = { data: (b: Uint8Array) => bridge.data(b), end: (r: string) => bridge.end(r) };
      const remote = remoteConsoleOf(request);
      const url = new URL(request.url);
      bridge.session =
        remote && core.fleet
          ? await attachRemoteConsole(
              core.fleet,
              remote,
              name,
              url.pathname + url.search,
              callerOf({ request }),
              handlers,
            )
          : await attachConsole(core, callerOf({ request }), name, { force: query.force === "1" }, handlers);
      bridges.set(request, bridge);
      // A browser fails the handshake unless one offered protocol is selected: ours, never the token.
      if (offeredProtocols(request.headers).includes(CONSOLE_PROTOCOL)) {
        set.headers["sec-websocket-protocol"] = CONSOLE_PROTOCOL;
      }
    },
    open(ws) {
      const bridge = bridges.get(ws.data.request);
      if (!bridge) {
        ws.close(CLOSE_NORMAL, "no console session");
        return;
      }
      bridge.attach({ send: (d) => ws.sendBinary(d), close: (c, r) => ws.close(c, r) });
    },
    message(ws, message) {
      const bridge = bridges.get(ws.data.request);
      if (!(message instanceof Uint8Array)) {
        ws.close(CLOSE_UNSUPPORTED, "send the console's input as binary frames");
        return;
      }
      bridge?.session?.write(message);
    },
    close(ws) {
      bridges.get(ws.data.request)?.detach();
    },
    detail: {
      summary: "The VM's serial console, interactive (WebSocket)",
      description:
        "Upgrade GET /v1/vms/{name}/console to a WebSocket (without the upgrade the same path is the log tail). Frames are binary both ways: what the guest writes, and what is typed; text frames close the socket (1003). The VM's owner or an admin only (typing is acting on the VM); the token in Authorization/X-AUTH-TOKEN, or, for browsers, as the subprotocol berth.token.<base64url token> next to berth.console (never in the URL, which logs and history keep). One session per VM: a second is 409 unless an admin passes force=1, which ends the first. Refusals are plain HTTP answers before the upgrade: 401, 403 (also a browser Origin other than this host), 404, 409 (not running, already attached). The socket closes (1000, with the reason) when the VM stops, the hypervisor connection resets or berth stops.",
      tags: ["vms"],
    },
  });
}
