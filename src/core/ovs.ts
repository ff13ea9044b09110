// Open vSwitch bridges through ovs-vsctl: argv only (never a shell), every call bounded in time.
import { AppError } from "../errors.ts";

export type Datapath = "system" | "netdev";

const OVS_VSCTL = "ovs-vsctl";
/** ovs-vsctl's own wait for ovsdb; the process is killed a little later if it still hangs. */
const TIMEOUT = "--timeout=10";
const KILL_AFTER_MS = 15_000;

/** The exact commands berth runs; pure, so they are tested as data. */
export const ovsArgv = {
  exists: (bridge: string) => [OVS_VSCTL, TIMEOUT, "br-exists", bridge],
  add: (bridge: string, datapath: Datapath) => [
    OVS_VSCTL,
    TIMEOUT,
    "--may-exist",
    "add-br",
    bridge,
    "--",
    "set",
    "bridge",
    bridge,
    `datapath_type=${datapath}`,
  ],
  ports: (bridge: string) => [OVS_VSCTL, TIMEOUT, "list-ports", bridge],
  remove: (bridge: string) => [OVS_VSCTL, TIMEOUT, "--if-exists", "del-br", bridge],
};

export class OvsError extends AppError {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(502, "ovs_error", message, opts);
  }
}

/** Runs one command; resolves with its exit code and output, rejects if it cannot run or hangs. */
export async function runOvs(argv: string[]): Promise<{ code: number; out: string }> {
  let proc: ReturnType<typeof Bun.spawn<"ignore", "pipe", "pipe">>;
  try {
    proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: KILL_AFTER_MS });
  } catch (cause) {
    throw new OvsError(`cannot run ${argv[0]}: ${(cause as Error).message}`, { cause });
  }
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (proc.signalCode) {
    throw new OvsError(`${argv.slice(0, 4).join(" ")} did not finish (${proc.signalCode})`);
  }
  return { code, out: `${out}${err}`.trim() };
}

async function must(argv: string[], what: string): Promise<string> {
  const r = await runOvs(argv);
  if (r.code !== 0) throw new OvsError(`${what} failed: ${r.out || `exit ${r.code}`}`);
  return r.out;
}

export async function bridgeExists(bridge: string): Promise<boolean> {
  const r = await runOvs(ovsArgv.exists(bridge));
  if (r.code === 0) return true;
  if (r.code === 2) return false; // br-exists: 2 means "no such bridge"
  throw new OvsError(`checking OVS bridge ${bridge} failed: ${r.out || `exit ${r.code}`}`);
}

/** Creates `bridge` with `datapath` unless it exists; says whether this call created it. */
export async function ensureBridge(bridge: string, datapath: Datapath): Promise<{ created: boolean }> {
  if (await bridgeExists(bridge)) return { created: false };
  await must(ovsArgv.add(bridge, datapath), `creating OVS bridge ${bridge}`);
  return { created: true };
}

export async function bridgePorts(bridge: string): Promise<string[]> {
  const out = await must(ovsArgv.ports(bridge), `listing the ports of OVS bridge ${bridge}`);
  return out.split("\n").filter((l) => l.length > 0);
}

export async function removeBridge(bridge: string): Promise<void> {
  await must(ovsArgv.remove(bridge), `removing OVS bridge ${bridge}`);
}
