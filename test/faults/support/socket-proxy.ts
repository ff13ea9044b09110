// A unix-socket relay in front of libvirtd's socket: cutting it is an outage for the one berth behind it only.

import { rmSync } from "node:fs";
import type { Socket, UnixSocketListener } from "bun";

interface Side {
  peer: Socket<Side> | null;
  /** Bytes the peer could not take yet (written on drain). */
  backlog: Uint8Array[];
  /** Bytes that arrived before the upstream connection was open. */
  early: Uint8Array[];
}

function send(to: Socket<Side>, data: Uint8Array): void {
  const d = to.data;
  if (d.backlog.length > 0) {
    d.backlog.push(data);
    return;
  }
  const n = to.write(data);
  if (n < data.length) d.backlog.push(data.subarray(Math.max(n, 0)));
}

function flush(s: Socket<Side>): void {
  const d = s.data;
  while (d.backlog.length > 0) {
    const head = d.backlog[0] as Uint8Array;
    const n = s.write(head);
    if (n < head.length) {
      d.backlog[0] = head.subarray(Math.max(n, 0));
      return;
    }
    d.backlog.shift();
  }
}

export class SocketRelay {
  #server: UnixSocketListener<Side> | null = null;
  readonly #open = new Set<Socket<Side>>();

  constructor(
    readonly path: string,
    readonly upstream = "/run/libvirt/libvirt-sock",
  ) {}

  /** The URI that reaches libvirtd's qemu driver through this relay. */
  get uri(): string {
    return `qemu+unix:///system?socket=${this.path}`;
  }

  /** Listens (again); a no-op while it listens. */
  start(): void {
    if (this.#server) return;
    rmSync(this.path, { force: true });
    const open = this.#open;
    const upstream = this.upstream;
    this.#server = Bun.listen<Side>({
      unix: this.path,
      socket: {
        open(client) {
          client.data = { peer: null, backlog: [], early: [] };
          open.add(client);
          void Bun.connect<Side>({
            unix: upstream,
            data: { peer: client, backlog: [], early: [] },
            socket: {
              open(up) {
                open.add(up);
                client.data.peer = up;
                for (const b of client.data.early.splice(0)) send(up, b);
              },
              data(up, chunk) {
                if (up.data.peer) send(up.data.peer, chunk);
              },
              drain: flush,
              close(up) {
                open.delete(up);
                up.data.peer?.end();
              },
              error(up) {
                up.data.peer?.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (client.data.peer) send(client.data.peer, chunk);
          else client.data.early.push(new Uint8Array(chunk));
        },
        drain: flush,
        close(client) {
          open.delete(client);
          client.data.peer?.end();
        },
        error(client) {
          client.data.peer?.end();
        },
      },
    });
  }

  /** Stops listening and drops every connection at once, as a dying daemon would. */
  cut(): void {
    this.#server?.stop(true);
    this.#server = null;
    for (const s of this.#open) s.terminate();
    this.#open.clear();
    rmSync(this.path, { force: true });
  }
}
