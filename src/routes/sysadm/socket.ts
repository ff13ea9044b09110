// sysadm's WebSocket protocol on [sysadm] listen_ws: the rpc handshake, its framing and error replies, dispatcher events, the iohyve class.
import { hostname } from "node:os";
import { Elysia } from "elysia";
import { type Caller, eventFilterFor } from "../../core/auth/index.ts";
import type { Core } from "../../core/context.ts";
import type { BerthEvent } from "../../core/events.ts";
import { DISPATCHER_EVENT } from "../../core/fronts/sysadm-iso.ts";
import { sysadmLogin, sysadmLogout, sysadmResume, sysadmTouch } from "../../core/fronts/sysadm-sessions.ts";
import { AppError } from "../../errors.ts";
import { log } from "../../log.ts";
import { errorArgs, evaluate, SUBSYSTEMS, SysadmRefusal } from "./protocol.ts";

/** The event types sysadm knew; only dispatcher ever fires here, the others are accepted. */
const EVENT_TYPES = ["dispatcher", "life-preserver", "system-state"];

interface Request {
  namespace: string;
  name: string;
  id: string;
  args: unknown;
}

interface Socket {
  send(data: string): unknown;
  close(code?: number, reason?: string): void;
  remoteAddress: string;
}

/** One connection's state: who it is (once authenticated), its token, its subscriptions. */
class Session {
  caller: Caller | null = null;
  token: string | null = null;
  offEvents: (() => void) | null = null;
  readonly subscribed = new Set<string>();
  constructor(
    readonly ws: Socket,
    readonly timer: ReturnType<typeof setTimeout>,
  ) {}
}

const frame = (v: unknown) => JSON.stringify(v);

function parse(message: unknown): Request | null {
  let v = message;
  if (typeof v === "string" || v instanceof Uint8Array || v instanceof ArrayBuffer) {
    try {
      v = JSON.parse(typeof v === "string" ? v : new TextDecoder().decode(v));
    } catch {
      return null;
    }
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const r = v as Record<string, unknown>;
  if (typeof r.namespace !== "string" || typeof r.name !== "string") return null;
  return {
    namespace: r.namespace,
    name: r.name,
    id: typeof r.id === "string" ? r.id : "",
    args: r.args ?? "",
  };
}

/** The sysadm WebSocket handler of `core` (any path; sysadm's server ignored it). */
export function sysadmSocketRoutes(core: Core) {
  const sessions = new WeakMap<object, Session>();
  const timeoutMs = core.config.sysadm.auth_timeout_s * 1000;

  const reply = (s: Session, req: Request, args: unknown) =>
    s.ws.send(
      frame({ namespace: req.namespace, name: req.id === "" ? req.name : "response", id: req.id, args }),
    );
  const refuse = (s: Session, req: Pick<Request, "id">, code: number, message?: string) =>
    s.ws.send(frame({ namespace: "error", name: "error", id: req.id, args: errorArgs(code, message) }));

  /** Whether the socket is logged in with a live token; each authorized request slides its expiry. */
  const authorized = (s: Session) => s.token !== null && sysadmTouch(core, s.token);

  const forward = (s: Session) => {
    if (s.offEvents) return;
    const visible = eventFilterFor(core, s.caller);
    const send = (e: BerthEvent) =>
      s.ws.send(frame({ namespace: "events", name: "dispatcher", id: "", args: e.data }));
    s.offEvents = core.events.subscribe((e) => {
      if (e.type === DISPATCHER_EVENT && s.subscribed.has("dispatcher") && visible(e)) send(e);
    });
    // sysadm re-sent the last event of the type at once.
    const last = core.events
      .since(0)
      .filter((e) => e.type === DISPATCHER_EVENT && visible(e))
      .pop();
    if (last) send(last);
  };

  const events = (s: Session, req: Request) => {
    if (!authorized(s)) return refuse(s, req, 401);
    const asked = typeof req.args === "string" ? [req.args] : req.args;
    if (!Array.isArray(asked) || asked.some((a) => typeof a !== "string")) return refuse(s, req, 400);
    const known = (asked as string[]).filter((a) => EVENT_TYPES.includes(a));
    const verb = req.name;
    if (verb !== "subscribe" && verb !== "unsubscribe") return refuse(s, req, 400);
    for (const type of known) {
      if (verb === "subscribe") s.subscribed.add(type);
      else s.subscribed.delete(type);
    }
    reply(s, req, { [verb]: known[known.length - 1] ?? "" });
    if (verb === "subscribe" && known.includes("dispatcher")) forward(s);
  };

  const loggedIn = (s: Session, req: Request, got: { caller: Caller | null; reply: [string, number] }) => {
    s.caller = got.caller;
    s.token = got.reply[0];
    clearTimeout(s.timer);
    reply(s, req, got.reply);
  };

  const rpc = async (s: Session, req: Request) => {
    const args = (typeof req.args === "object" && req.args !== null ? req.args : {}) as Record<
      string,
      unknown
    >;
    switch (req.name) {
      case "identify":
        return reply(s, req, { type: "server", hostname: hostname() });
      case "auth": {
        const { username, password } = args;
        if (typeof username !== "string" || typeof password !== "string") return refuse(s, req, 401);
        try {
          return loggedIn(s, req, await sysadmLogin(core, username, password, s.ws.remoteAddress || null));
        } catch (e) {
          if (e instanceof AppError) return refuse(s, req, 401);
          throw e;
        }
      }
      case "auth_token": {
        const got = typeof args.token === "string" ? sysadmResume(core, args.token) : null;
        return got ? loggedIn(s, req, got) : refuse(s, req, 401);
      }
      case "auth_clear":
        if (s.token) sysadmLogout(core, s.token);
        s.token = null;
        s.caller = null;
        return;
      case "auth_ssl":
        // Key-based login is not served: the 401 its clients treat as a failed login.
        return refuse(s, req, 401);
      case "query":
        return authorized(s) ? reply(s, req, SUBSYSTEMS) : refuse(s, req, 401);
      default:
        return authorized(s) ? refuse(s, req, 400) : refuse(s, req, 401);
    }
  };

  const handle = async (s: Session, req: Request) => {
    if (req.namespace === "rpc") return await rpc(s, req);
    if (req.namespace === "events") return events(s, req);
    if (!authorized(s)) return refuse(s, req, 401);
    if (req.namespace !== "sysadm") return refuse(s, req, 404);
    try {
      reply(s, req, await evaluate(core, s.caller, req.name, req.args));
    } catch (e) {
      if (e instanceof SysadmRefusal) return refuse(s, req, e.code, e.message);
      throw e;
    }
  };

  return new Elysia().ws("/*", {
    open(ws) {
      // A socket not authenticated in time is closed, as sysadm's server did after 30 s.
      const timer = setTimeout(() => {
        const s = sessions.get(ws.raw);
        if (s && s.token === null) ws.close(1000, "not authenticated");
      }, timeoutMs);
      sessions.set(ws.raw, new Session(ws, timer));
    },
    async message(ws, message) {
      const s = sessions.get(ws.raw);
      if (!s) return;
      const req = parse(message);
      if (!req) return refuse(s, { id: "" }, 400);
      try {
        await handle(s, req);
      } catch (e) {
        // berth's own bug: the error reply sysadm's clients know, the details in the log.
        log.error("sysadm request failed", { error: e instanceof Error ? e.message : String(e) });
        refuse(s, req, 500, "Internal Server Error");
      }
    },
    close(ws) {
      const s = sessions.get(ws.raw);
      if (!s) return;
      clearTimeout(s.timer);
      s.offEvents?.();
      sessions.delete(ws.raw);
    },
  });
}
