// A host "outside" for fetch tests: a network namespace joined by a veth pair, on addresses berth does not refuse.
import { run } from "../../integration/support/env.ts";

const server = new URL("./outside-server.ts", import.meta.url).pathname;

/** 100.128.0.0/10's first /30s are ordinary unicast space (CGNAT, refused, ends at 100.127.255.255). */
export interface OutsideHost {
  /** The namespace side's address: what berth connects to. */
  address: string;
  ports: { http: number; banner: number; hangUp: number; silent: number; closed: number };
  url(path: string, port?: number): string;
  /** Stops the server (by its pid) and deletes the namespace, which takes the veth pair with it. */
  remove(): Promise<void>;
}

function must(argv: string[]): void {
  const r = run(argv);
  if (!r.ok) throw new Error(`${argv.join(" ")}: ${r.out}`);
}

/**
 * Makes namespace `berth-out-<tag>` with a veth pair (`bo<tag>h` on the host, `bo<tag>n` inside, a /30
 * from 100.128.<octet>.0) and starts the server inside it. `tag` must be short (interface names: 15 chars).
 */
export async function outsideHost(
  tag: string,
  octet: number,
  serve: { file: string; user: string; password: string; redirects: Record<string, string> },
): Promise<OutsideHost> {
  const ns = `berth-out-${tag}`;
  const host = `bo${tag}h`;
  const peer = `bo${tag}n`;
  const hostAddr = `100.128.${octet}.1`;
  const address = `100.128.${octet}.2`;
  must(["ip", "netns", "add", ns]);
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  const remove = async () => {
    if (proc) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    run(["ip", "netns", "del", ns]);
    run(["ip", "link", "del", host]);
  };
  try {
    must(["ip", "link", "add", host, "type", "veth", "peer", "name", peer]);
    must(["ip", "link", "set", peer, "netns", ns]);
    must(["ip", "addr", "add", `${hostAddr}/30`, "dev", host]);
    must(["ip", "link", "set", host, "up"]);
    must(["ip", "netns", "exec", ns, "ip", "addr", "add", `${address}/30`, "dev", peer]);
    must(["ip", "netns", "exec", ns, "ip", "link", "set", peer, "up"]);
    must(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    const ports = { http: 8080, banner: 2222, hangUp: 2223, silent: 2224, closed: 2225 };
    proc = Bun.spawn(
      ["ip", "netns", "exec", ns, process.execPath, server, address, JSON.stringify({ ...ports, ...serve })],
      { stdout: "pipe", stderr: "inherit" },
    );
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    const first = await Promise.race([reader.read(), Bun.sleep(15_000).then(() => null)]);
    reader.releaseLock();
    if (!first || first.done || !new TextDecoder().decode(first.value).includes("ready")) {
      throw new Error("the outside server did not start");
    }
    return {
      address,
      ports,
      url: (path, port = ports.http) => `http://${address}:${port}${path}`,
      remove,
    };
  } catch (e) {
    await remove();
    throw e;
  }
}
