// A sysadm WebSocket client for tests: Bun's WebSocket over wss with berth's certificate pinned, requests matched to replies by id.

export interface Frame {
  namespace: string;
  name: string;
  id: string;
  args: unknown;
}

export class SysadmClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<CloseEvent>;
  #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  #seq = 0;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      const f = JSON.parse(String(e.data)) as Frame;
      const w = this.#waiters.find((x) => x.match(f));
      if (w) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(f);
      } else this.frames.push(f);
    });
    this.closed = new Promise((resolve) => ws.addEventListener("close", resolve));
  }

  /** Opens wss://`address` trusting only `ca` (the PEM berth made). */
  static async open(address: string, ca: string): Promise<SysadmClient> {
    const ws = new WebSocket(`wss://${address}/`, { tls: { ca } } as never);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error(`cannot open wss://${address}`)));
    });
    return new SysadmClient(ws);
  }

  /** The next frame `match` accepts (one that came before is taken first); fails after `ms`. */
  next(match: (f: Frame) => boolean, ms = 10_000): Promise<Frame> {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no such frame in time")), ms);
      this.#waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** Sends a request and answers the frame with its id. */
  async request(namespace: string, name: string, args: unknown, id = `t${++this.#seq}`): Promise<Frame> {
    this.ws.send(JSON.stringify({ namespace, name, id, args }));
    return await this.next((f) => f.id === id);
  }

  /** The iohyve class: the reply's args. */
  async iohyve(args: Record<string, unknown>): Promise<Record<string, unknown>> {
    return (await this.request("sysadm", "iohyve", args)).args as Record<string, unknown>;
  }

  async login(user: string, password: string): Promise<Frame> {
    return await this.request("rpc", "auth", { username: user, password });
  }

  close(): void {
    this.ws.close();
  }
}
