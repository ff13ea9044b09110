// Integration prerequisites: a reachable libvirtd (and OVS). Outside CI they skip with a reason; in CI they fail.
import { existsSync } from "node:fs";

export const SYSTEM_URI = "qemu:///system";

function run(argv: string[], timeoutMs = 10_000): { ok: boolean; out: string } {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  return { ok: r.exitCode === 0, out: `${r.stdout.toString()}${r.stderr.toString()}` };
}

function probe(): string | null {
  if (process.getuid?.() !== 0) return "integration tests need root (libvirtd, OVS, qemu)";
  if (!existsSync("/run/libvirt/libvirt-sock"))
    return "libvirtd is not running (/run/libvirt/libvirt-sock missing)";
  const v = run(["virsh", "-c", SYSTEM_URI, "list", "--all", "--name"]);
  if (!v.ok) return `libvirtd does not answer: ${v.out.trim()}`;
  const o = run(["ovs-vsctl", "--timeout=5", "show"]);
  if (!o.ok) return `Open vSwitch does not answer: ${o.out.trim()}`;
  return null;
}

const reason = probe();

/** True when the integration suite can run; in CI a missing hypervisor is a failure, never a skip. */
export function integrationReady(): boolean {
  if (reason && process.env.CI === "true") {
    throw new Error(`integration prerequisites missing in CI: ${reason}`);
  }
  if (reason) console.warn(`skipping integration tests: ${reason}`);
  return reason === null;
}

export { run };
