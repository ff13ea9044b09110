// HTTP load with wrk (Debian's package): a timed run on one URL, or N checkouts through checkout.lua with every name kept.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface WrkRun {
  /** Answers per second (for a checkout run: the threads' own clock, not wrk's -d). */
  rps: number;
  p50: number;
  p99: number;
  requests: number;
}

export interface CheckoutRun extends WrkRun {
  /** Every VM name answered, in no particular order (duplicates kept: the caller checks them). */
  names: string[];
  /** HTTP statuses other than 200, with their counts. */
  refused: Record<string, number>;
}

const LUA = new URL("./checkout.lua", import.meta.url).pathname;

/** wrk's "--latency" distribution line for q% ("99%  12.34ms"), in ms. */
function latencyMs(out: string, q: number): number {
  const m = new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s)\\b`, "m").exec(out);
  if (!m) return Number.NaN;
  const scale = m[2] === "us" ? 1e-3 : m[2] === "s" ? 1e3 : 1;
  return Number(m[1]) * scale;
}

/**
 * Runs wrk without blocking this process's event loop: it keeps reading the stderr of the berth it measures.
 * (Blocked, the pipe filled at 128 clients and berth's log writes failed with EAGAIN ~6 000 times a run.)
 */
async function wrk(argv: string[], env: Record<string, string> = {}): Promise<string> {
  const p = Bun.spawn(["wrk", ...argv], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0) throw new Error(`wrk ${argv.join(" ")}: ${err}${out}`);
  return out;
}

/** wrk threads for c connections on this 2-core class of machine (wrk needs connections >= threads). */
const threadsFor = (c: number) => Math.min(2, c);

/** A timed wrk run (GET unless a Lua script says otherwise). */
export async function wrkTimed(url: string, connections: number, seconds: number): Promise<WrkRun> {
  const out = await wrk([
    "-t",
    String(threadsFor(connections)),
    "-c",
    String(connections),
    "-d",
    `${seconds}s`,
    "--latency",
    url,
  ]);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: latencyMs(out, 50),
    p99: latencyMs(out, 99),
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
  };
}

/**
 * `total` POSTs of `body` at `connections` clients (each wrk thread stops after its share; `maxSeconds`
 * bounds the run; `total` 0 runs for all of `maxSeconds`), every answer's VM names collected from checkout.lua's files.
 */
export async function wrkCheckouts(
  url: string,
  body: unknown,
  connections: number,
  total: number,
  maxSeconds: number,
): Promise<CheckoutRun> {
  const threads = threadsFor(connections);
  const quota = total > 0 ? Math.ceil(total / threads) : 0;
  const dir = mkdtempSync(join(tmpdir(), "berth-wrk-"));
  const out = await wrk(
    ["-t", String(threads), "-c", String(connections), "-d", `${maxSeconds}s`, "--latency", "-s", LUA, url],
    { CK_QUOTA: String(quota), CK_OUT: join(dir, "names"), CK_BODY: JSON.stringify(body) },
  );
  const names: string[] = [];
  const refused: Record<string, number> = {};
  let elapsedUs = 0;
  let timed = 0;
  for (const f of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
      if (line === "") continue;
      if (line.startsWith("#us ")) {
        elapsedUs = Math.max(elapsedUs, Number(line.slice(4)));
        timed++;
      } else if (line.startsWith("!")) refused[line.slice(1)] = (refused[line.slice(1)] ?? 0) + 1;
      else names.push(line);
    }
  }
  // A thread that never reached its quota ran for the whole -d: wrk's own rate is then the honest one.
  const rps =
    timed === threads && elapsedUs > 0
      ? (quota * threads * 1e6) / elapsedUs
      : Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  return {
    rps,
    p50: latencyMs(out, 50),
    p99: latencyMs(out, 99),
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    names,
    refused,
  };
}
