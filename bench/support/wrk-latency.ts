// wrk (Debian's HTTP load generator) on one URL: its --latency percentiles and requests per second.

export interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  requests: number;
  /** Non-2xx/3xx answers and socket errors wrk counted (a correct run has none). */
  errors: number;
}

/** wrk's "--latency" distribution lines ("99%  12.34ms"), "Requests/sec:" and its error counts. */
export function parseWrk(out: string): WrkResult {
  const ms = (q: string) => {
    const m = new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(out);
    if (!m) return Number.NaN;
    const scale = m[2] === "us" ? 1e-3 : m[2] === "s" ? 1e3 : 1;
    return Number(m[1]) * scale;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50ms: ms("50"),
    p99ms: ms("99"),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    errors: non2xx + socketErrors,
  };
}

/** Runs wrk with `connections` clients on one thread for `seconds` (argv, no shell). */
export function wrk(url: string, connections: number, seconds: number): WrkResult {
  const r = Bun.spawnSync(
    ["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "--latency", url],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  if (r.exitCode !== 0) throw new Error(`wrk: ${r.stderr.toString()}`);
  return parseWrk(r.stdout.toString());
}
