// Loopback ports that are not web servers: closed, hanging up at once, speaking another protocol, or silent.
export interface DeadEnds {
  closed: number;
  hangUp: number;
  ssh: number;
  silent: number;
  stop(): void;
}

export function deadEnds(): DeadEnds {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const closed = probe.port;
  probe.stop(true);
  const listen = (open: (s: { end(): void; write(d: string): number }) => void) =>
    Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open, data() {} } });
  const hangUp = listen((s) => s.end());
  const ssh = listen((s) => {
    s.write("SSH-2.0-OpenSSH_9.2\r\n");
  });
  const silent = listen(() => {});
  return {
    closed,
    hangUp: hangUp.port,
    ssh: ssh.port,
    silent: silent.port,
    stop() {
      for (const l of [hangUp, ssh, silent]) l.stop(true);
    },
  };
}
