// The process's one event pump Worker, shared by every hypervisor client: libvirt has one default event loop per process.
import type { FromPump, ToPump } from "./protocol.ts";

type Handler = (m: FromPump) => void;

interface Shared {
  worker: Worker;
  handlers: Map<number, Handler>;
}

/** One pump per Worker file (the tests and the binary each name theirs), started on first use. */
const pumps = new Map<string, Shared>();
let nextClient = 1;

/** One client's share of the pump: its own connection, and the messages about it. */
export interface PumpLink {
  connect(uri: string): void;
  /** Closes this client's connection; the last client to leave stops the pump. */
  close(): Promise<void>;
}

export function attachPump(url: string, onMessage: Handler): PumpLink {
  let shared = pumps.get(url);
  if (!shared) {
    const worker = new Worker(url);
    const handlers = new Map<number, Handler>();
    worker.onmessage = (ev: MessageEvent<FromPump>) => handlers.get(ev.data.client)?.(ev.data);
    shared = { worker, handlers };
    pumps.set(url, shared);
  }
  const s = shared;
  const client = nextClient++;
  s.handlers.set(client, onMessage);
  const post = (m: ToPump) => s.worker.postMessage(m);
  return {
    connect: (uri) => post({ type: "connect", client, uri }),
    async close() {
      if (!s.handlers.delete(client)) return;
      post({ type: "disconnect", client });
      if (s.handlers.size > 0) return;
      pumps.delete(url);
      post({ type: "stop" });
      // Give the pump one loop tick to close its connections before the thread goes.
      await Bun.sleep(250);
      s.worker.terminate();
    },
  };
}
