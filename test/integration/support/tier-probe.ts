// What a woken pool VM shows: its clock (typed `date` on the serial console), its OVS port's VLAN tag, its TCP port.
import { existsSync, readFileSync, statSync } from "node:fs";
import type { Core } from "../../../src/core/context.ts";
import { tcpOpen } from "../../../src/core/pools/readiness.ts";
import { run } from "./env.ts";

/** Where libvirt's QEMU driver keeps a domain's managed save image. */
export const saveImageOf = (domain: string) => `/var/lib/libvirt/qemu/save/${domain}.save`;

export function saveImageBytes(domain: string): number | null {
  const p = saveImageOf(domain);
  return existsSync(p) ? statSync(p).size : null;
}

/** The guest's `date +%s`, typed into its console shell; null when it does not answer within `timeoutMs`. */
export async function guestClock(core: Core, vm: string, timeoutMs = 15_000): Promise<number | null> {
  let text = "";
  const got = Promise.withResolvers<number | null>();
  const session = await core.hv.consoles.open(vm, false, {
    data(bytes) {
      text += new TextDecoder().decode(bytes);
      const m = /GUESTCLOCK=([0-9]+)/.exec(text);
      if (m) got.resolve(Number(m[1]));
    },
    end() {
      got.resolve(null);
    },
  });
  const timer = setTimeout(() => got.resolve(null), timeoutMs);
  // The typed line holds "%s", never digits after '=': only the shell's answer matches.
  const ask = () => session.write(new TextEncoder().encode("date +GUESTCLOCK=%s\n"));
  ask();
  const again = setInterval(ask, 3000); // the shell may still be (re)starting
  try {
    return await got.promise;
  } finally {
    clearTimeout(timer);
    clearInterval(again);
    session.close();
  }
}

/** The OVS ports libvirt made for the domain (external_ids:vm-id is its uuid), each with its VLAN tag. */
export function ovsPortsOf(uuid: string): { port: string; tag: number | null }[] {
  const r = run([
    "ovs-vsctl",
    "--timeout=10",
    "--format=csv",
    "--data=bare",
    "--no-heading",
    "--columns=name",
    "find",
    "Interface",
    `external_ids:vm-id=${uuid}`,
  ]);
  if (!r.ok) throw new Error(`ovs-vsctl find: ${r.out}`);
  return r.out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((port) => {
      const tag = run(["ovs-vsctl", "--timeout=10", "get", "Port", port, "tag"]).out.trim();
      return { port, tag: /^[0-9]+$/.test(tag) ? Number(tag) : null };
    });
}

/** ms until a TCP connect to ip:port succeeds, trying every 50 ms; null past `timeoutMs`. */
export async function tcpAnswersAfter(ip: string, port: number, timeoutMs = 60_000): Promise<number | null> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await tcpOpen(ip, port, 1000)) return performance.now() - t0;
    await Bun.sleep(50);
  }
  return null;
}

/** RSS (bytes) of the QEMU process running `domain`, from /proc; null when none runs. */
export function qemuRssBytes(domain: string): number | null {
  const pidFile = `/run/libvirt/qemu/${domain}.pid`;
  if (!existsSync(pidFile)) return null;
  const pid = readFileSync(pidFile, "utf8").trim();
  if (!existsSync(`/proc/${pid}/status`)) return null;
  const m = /^VmRSS:\s+([0-9]+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : null;
}
