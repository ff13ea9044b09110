// Running `rbd` and qemu-img's RBD import: argv only, bounded in time, the key from the key file (never on a command line).
import { AppError, asInsufficientStorage } from "../../errors.ts";
import type { RbdSettings } from "./rbd.ts";

/** rbd's own calls are metadata (list, rename, remove): anything longer is a cluster that does not answer. */
const RBD_TIMEOUT_MS = 60_000;
/** An image import copies the whole image into the cluster. */
export const IMPORT_TIMEOUT_MS = 3_600_000;

async function runTool(label: string, argv: string[], timeoutMs: number): Promise<string> {
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    const failed = new AppError(500, "internal", `${label} failed (exit ${code}): ${err.trim()}`);
    throw asInsufficientStorage(failed, label) ?? failed;
  }
  return out;
}

/** `rbd --id USER --keyfile FILE -m MONS <args>` */
export function runRbd(s: RbdSettings, args: string[]): Promise<string> {
  const mons = s.monitors.map((m) => `${m.host}:${m.port}`).join(",");
  return runTool(
    `rbd ${args[0]}`,
    ["rbd", "--id", s.user, "--keyfile", s.keyFile, "-m", mons, ...args],
    RBD_TIMEOUT_MS,
  );
}

/** `ceph -c /dev/null --id USER --keyfile FILE -m MONS <args>` (the ceph CLI reads a config file; everything it needs is on the line). */
export function runCeph(s: RbdSettings, args: string[]): Promise<string> {
  const mons = s.monitors.map((m) => `${m.host}:${m.port}`).join(",");
  return runTool(
    `ceph ${args.slice(0, 3).join(" ")}`,
    ["ceph", "-c", "/dev/null", "--id", s.user, "--keyfile", s.keyFile, "-m", mons, ...args],
    RBD_TIMEOUT_MS,
  );
}

/** The RBD images of the pool, by exact name. */
export async function rbdImages(s: RbdSettings): Promise<Set<string>> {
  return new Set(
    (await runRbd(s, ["ls", s.cephPool]))
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

// qemu's rbd: filename takes `:` between options; a literal one (a monitor's port) is `\:`, monitors are split by `\;`.
const esc = (s: string) => s.replaceAll("\\", "\\\\").replaceAll(":", "\\:").replaceAll(";", "\\;");

/** qemu-img's target for RBD image `volume`: the key comes from the key file. */
export function qemuRbdTarget(s: RbdSettings, volume: string): string {
  const mons = s.monitors.map((m) => esc(`${m.host}:${m.port}`)).join("\\;");
  return `rbd:${s.cephPool}/${volume}:id=${esc(s.user)}:keyfile=${esc(s.keyFile)}:mon_host=${mons}`;
}

/** Converts `path` (qcow2 or raw) into a new raw RBD image `volume`. */
export function importToRbd(
  s: RbdSettings,
  path: string,
  format: "qcow2" | "raw",
  volume: string,
): Promise<string> {
  return runTool(
    `qemu-img convert of ${path} into RBD`,
    ["qemu-img", "convert", "-f", format, "-O", "raw", path, qemuRbdTarget(s, volume)],
    IMPORT_TIMEOUT_MS,
  );
}
