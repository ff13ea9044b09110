// berth's event stream (/v1/events) read with fetch, so the token travels in a header (EventSource cannot send one); resumes with Last-Event-ID.
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { authHeaders, errorOf } from "./api.ts";

export interface StreamHandlers {
  onEvent(type: string, target: string): void;
  /** Connected (true) or waiting to reconnect (false). */
  onState(live: boolean): void;
  /** The stream refused the token (401): the page asks for another instead of retrying. */
  onUnauthorized(message: string): void;
}

/** Follows the stream until `signal` aborts; reconnects after the server's retry delay. */
export async function follow(handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
  let lastId: string | null = null;
  let retryMs = 3000;
  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = { accept: "text/event-stream", ...authHeaders() };
      if (lastId !== null) headers["last-event-id"] = lastId;
      const res = await fetch("/v1/events", { headers, signal, cache: "no-store" });
      if (res.status === 401) {
        handlers.onState(false);
        handlers.onUnauthorized((await errorOf(res)).message);
        return;
      }
      if (!res.ok || !res.body) throw await errorOf(res);
      handlers.onState(true);
      const parser = createParser({
        onEvent(m: EventSourceMessage) {
          if (m.id) lastId = m.id;
          const data = JSON.parse(m.data) as { type: string; target: string };
          handlers.onEvent(data.type, data.target);
        },
        onRetry(ms: number) {
          retryMs = ms;
        },
      });
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        parser.feed(decoder.decode(r.value, { stream: true }));
      }
    } catch (e) {
      if (signal.aborted) return;
      // A dropped connection or a refused one (503 too_many_streams): wait, then resume after the last id.
      if (!(e instanceof Error)) throw e;
    }
    handlers.onState(false);
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}
