// GET /v1/events: berth's event bus as a Server-Sent Events stream, resumable with Last-Event-ID.
import { Elysia, t } from "elysia";
import { type Caller, eventFeedFor } from "../../core/auth/index.ts";
import type { Core } from "../../core/context.ts";
import { type Release, StreamSlots, TooManyStreams } from "../../core/event-streams.ts";
import type { BerthEvent, EventBus } from "../../core/events.ts";
import { log } from "../../log.ts";
import { callerOf } from "../auth.ts";
import { clientAddress } from "../client-address.ts";

/** A comment line every so often keeps proxies and idle timers from closing a quiet stream. */
export const HEARTBEAT_MS = 15_000;
/** A client this many events behind is cut off; it reconnects with Last-Event-ID and catches up. */
export const MAX_BACKLOG = 1000;

const LIST = "^[^,]+(,[^,]+)*$";
const encoder = new TextEncoder();

export interface EventFilter {
  types: ReadonlySet<string> | null;
  targets: ReadonlySet<string> | null;
}

const split = (v: string | undefined) => (v === undefined ? null : new Set(v.split(",")));

function matches(f: EventFilter, e: BerthEvent): boolean {
  return (!f.types || f.types.has(e.type)) && (!f.targets || f.targets.has(e.target));
}

/** One event as an SSE frame; its JSON has no raw newline, so one data line carries it. */
export function frame(e: BerthEvent): string {
  const data = { id: e.id, time: e.time, type: e.type, target: e.target, data: e.data };
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The stream of one client: the events after `lastId` still in memory, then live ones. It
 * unsubscribes when the client goes (`signal` aborts or the reader cancels) or falls too far behind.
 */
export function eventStream(
  bus: EventBus,
  opts: {
    lastId: number | null;
    filter: EventFilter;
    signal: AbortSignal;
    heartbeatMs: number;
    /** Called once when the stream ends, however it ends (frees the client's stream slot). */
    onClose?: () => void;
    /** Which events the caller may see (authorization); every event when absent. */
    visible?: (e: BerthEvent) => boolean;
  },
): ReadableStream<Uint8Array> {
  let cleanup = (): void => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const close = (): void => {
        if (!open) return;
        open = false;
        cleanup();
        controller.close();
      };
      const send = (s: string): void => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(s));
        } catch (e) {
          // Runs inside EventBus.publish: a dead stream must unsubscribe, never fail the publisher.
          log.debug("event stream closed while sending", {
            error: e instanceof Error ? e.message : String(e),
          });
          cleanup();
          return;
        }
        if ((controller.desiredSize ?? 0) < -MAX_BACKLOG) close();
      };
      send("retry: 3000\n\n");
      // since() and subscribe() run in one synchronous step, so no event falls between replay and live.
      const wanted = (e: BerthEvent) => matches(opts.filter, e) && (opts.visible?.(e) ?? true);
      for (const e of opts.lastId === null ? [] : bus.since(opts.lastId)) {
        if (wanted(e)) send(frame(e));
      }
      const unsubscribe = bus.subscribe((e) => {
        if (wanted(e)) send(frame(e));
      });
      const heartbeat = setInterval(() => send(": keepalive\n\n"), opts.heartbeatMs);
      cleanup = () => {
        open = false;
        unsubscribe();
        clearInterval(heartbeat);
        opts.signal.removeEventListener("abort", close);
        opts.onClose?.();
      };
      if (opts.signal.aborted) close();
      else opts.signal.addEventListener("abort", close, { once: true });
    },
    cancel() {
      cleanup();
    },
  });
}

const tags = ["events"];

/** Who a stream counts against: the authenticated user, else the client's address. */
function clientKey(caller: Caller | null, address: string | null): string {
  return caller ? `user:${caller.name}` : `address:${address ?? "unknown"}`;
}

export function eventRoutes(core: Core, opts: { heartbeatMs?: number } = {}) {
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const { max_event_streams, max_event_streams_per_client } = core.config.limits;
  const slots = new StreamSlots(max_event_streams, max_event_streams_per_client);
  return new Elysia({ prefix: "/v1" }).get(
    "/events",
    (ctx) => {
      const { query, headers, request, server, set } = ctx;
      const caller = callerOf(ctx);
      // With auth on a stream needs a token, and carries only what its caller may see.
      const visible = eventFeedFor(core, caller);
      let release: Release;
      try {
        release = slots.acquire(clientKey(caller, clientAddress(request, server)));
      } catch (e) {
        // A refused client is not kept connected: its socket is what the flood exhausts.
        if (e instanceof TooManyStreams)
          Object.assign(set.headers, { connection: "close", "retry-after": "5" });
        throw e;
      }
      // Quiet between events: the server's idle timeout must not cut the stream.
      server?.timeout(request, 0);
      const last = headers["last-event-id"];
      const body = eventStream(core.events, {
        lastId: last === undefined ? null : Number(last),
        filter: { types: split(query.type), targets: split(query.target) },
        visible,
        signal: request.signal,
        heartbeatMs,
        onClose: release,
      });
      return new Response(body, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
        },
      });
    },
    {
      query: t.Object(
        {
          type: t.Optional(
            t.String({
              pattern: LIST,
              maxLength: 2000,
              description:
                "only these event types (exact, comma-separated), e.g. vm.started,operation.progress",
            }),
          ),
          target: t.Optional(
            t.String({
              pattern: LIST,
              maxLength: 2000,
              description: "only events about these targets (exact, comma-separated), e.g. vm/web-1",
            }),
          ),
        },
        { additionalProperties: false },
      ),
      headers: t.Object({
        "last-event-id": t.Optional(
          t.String({
            pattern: "^[0-9]{1,15}$",
            description: "resume after this event id (EventSource sends it when it reconnects)",
          }),
        ),
      }),
      detail: {
        summary: "Stream events (Server-Sent Events)",
        description:
          "A `text/event-stream` of berth's events: VM lifecycle (from libvirt and from berth's own actions), " +
          "operation start/progress/end, reconcile findings. Each event is `id: <id>`, `event: <type>` and " +
          "`data: {id, time, type, target, data}`. With `Last-Event-ID` the stream first replays the events " +
          "after that id that berth still holds (the last 1000), then goes live. A `: keepalive` comment " +
          "comes every 15 s. A client that falls more than 1000 events behind is disconnected and resumes " +
          "with `Last-Event-ID`. Ids keep growing across restarts (they may skip): a client resuming after a " +
          "restart never sees an id go back, though events from before the restart are not replayed. With `[auth] enabled` a stream needs a " +
          "token (401) and carries only what its caller may see: an admin everything; a user the catalogue " +
          "(images, sizes, profiles, networks), their own VMs, operations, requests, checkouts and tokens. " +
          "Lifecycle events of libvirt domains berth does not manage are never carried.",
        tags,
        responses: {
          200: {
            description: "the event stream (never ends on its own)",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
          400: { description: "bad filter or Last-Event-ID" },
          503: {
            description:
              "`too_many_streams`: the client (its user, or its address without a token) or berth as a whole " +
              "holds as many streams as `[limits]` allows; the connection is closed, retry after 5 s",
          },
        },
      },
    },
  );
}
