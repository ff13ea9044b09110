// HTTP/1.1 over a raw socket, for what fetch cannot do: pick the source address, hold thousands of streams, lie about Content-Length.
import { connect, type Socket } from "node:net";

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  /** The body read so far: all of it, unless the answer is an open event stream. */
  body: string;
  /** Milliseconds from connecting to the answer. */
  ms: number;
  /** Still open for an event stream (200 text/event-stream); closed otherwise. Close it with end(). */
  socket: Socket;
  /** Whether the server closed the connection after answering. */
  closedByServer: Promise<boolean>;
}

export interface RawRequest {
  port: number;
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent right after the head; nothing is sent when absent (whatever Content-Length says). */
  body?: string | Uint8Array;
  /** The client's source address (any 127.x.y.z on loopback), so one test can be several clients. */
  localAddress?: string;
  timeoutMs?: number;
}

/** Sends one request on a new connection and resolves with its answer (an event stream: its head). */
export function rawRequest(req: RawRequest): Promise<RawAnswer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: req.port, localAddress: req.localAddress });
    let closed: (v: boolean) => void = () => {};
    const closedByServer = new Promise<boolean>((r) => {
      closed = r;
    });
    let buf = Buffer.alloc(0);
    let done = false;
    const timer = setTimeout(() => {
      fail(new Error(`${req.method} ${req.path}: no answer within ${req.timeoutMs ?? 10_000} ms`));
    }, req.timeoutMs ?? 10_000);
    const fail = (e: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const answer = (head: string, body: Buffer) => {
      done = true;
      clearTimeout(timer);
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(":");
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({
        status: Number(statusLine.split(" ")[1]),
        headers,
        body: body.toString(),
        ms: performance.now() - t0,
        socket,
        closedByServer,
      });
    };
    const tryAnswer = (ended: boolean) => {
      if (done) return;
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) {
        if (ended) fail(new Error(`${req.method} ${req.path}: connection closed before an answer`));
        return;
      }
      const head = buf.subarray(0, end).toString();
      const body = buf.subarray(end + 4);
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      if (/\r\ncontent-type: *text\/event-stream/i.test(head)) answer(head, body);
      else if (length !== undefined && body.length >= Number(length)) answer(head, body);
      else if (ended) answer(head, body);
    };
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      tryAnswer(false);
    });
    socket.on("end", () => {
      closed(true);
      tryAnswer(true);
    });
    socket.on("close", () => {
      closed(true);
      tryAnswer(true);
    });
    socket.on("error", (e) => {
      closed(true);
      fail(e);
    });
    socket.on("connect", () => {
      const headers = { host: "berth", ...req.headers };
      const head = `${req.method} ${req.path} HTTP/1.1\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\r\n")}\r\n\r\n`;
      socket.write(head);
      if (req.body !== undefined) socket.write(req.body);
    });
  });
}

/** Resolves true if the server closes `a`'s connection within `ms`, false if it stays open. */
export function closesWithin(a: RawAnswer, ms: number): Promise<boolean> {
  return Promise.race([a.closedByServer, Bun.sleep(ms).then(() => false)]);
}

/** Runs `fns` with at most `width` at a time; the results in order. */
export async function bounded<T>(width: number, fns: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(fns.length);
  let next = 0;
  const lane = async () => {
    while (next < fns.length) {
      const i = next++;
      out[i] = await (fns[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, fns.length) }, lane));
  return out;
}
