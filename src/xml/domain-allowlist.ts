// The allowlist of user domain XML: every element and attribute berth accepts at the top of a <domain>; anything else is refused.
import {
  type AllowContext,
  ANY,
  BIG,
  firmware,
  INT,
  ONOFF,
  type Refusal,
  type Rule,
  SINT,
  STATE,
  TOKEN,
  UNIT,
  UUID,
  walkRule,
  YESNO,
} from "./allowlist-rules.ts";
import { DEVICES_RULE } from "./device-allowlist.ts";

export { type AllowContext, absolutePath, type Refusal } from "./allowlist-rules.ts";

const state = (names: string[]): Record<string, Rule> =>
  Object.fromEntries(names.map((n) => [n, { attrs: STATE }]));

/** The document root: everything not named here is refused. */
export const DOMAIN_RULE: Rule = {
  attrs: {
    type: (v, c) =>
      c.types.includes(v) ? null : `domain type ${v} is not allowed here: use ${c.types.join(" or ")}`,
  },
  children: {
    name: { text: ANY },
    uuid: { text: UUID },
    title: { text: ANY },
    description: { text: ANY },
    metadata: { opaque: true },
    memory: { attrs: { unit: UNIT }, text: BIG },
    currentMemory: { attrs: { unit: UNIT }, text: BIG },
    vcpu: {
      attrs: {
        placement: (v) => (v === "static" ? null : `placement ${v}: only static (no host pinning)`),
        current: INT,
      },
      text: INT,
    },
    resource: { children: { partition: { text: ["/machine"] } } },
    sysinfo: {
      attrs: {
        type: (v) => (v === "smbios" ? null : `type ${v}: only smbios strings (fw_cfg reads host files)`),
      },
      children: Object.fromEntries(
        ["bios", "system", "baseBoard", "chassis", "processor", "memory"]
          .map((k): [string, Rule] => [k, { children: { entry: { attrs: { name: TOKEN }, text: ANY } } }])
          .concat([["oemStrings", { children: { entry: { text: ANY } } }]]),
      ),
    },
    os: {
      attrs: { firmware: ["efi", "bios"] },
      children: {
        type: { attrs: { arch: /^[a-z0-9_]{1,16}$/, machine: /^[a-z0-9._-]{1,64}$/ }, text: ["hvm"] },
        loader: {
          attrs: { readonly: YESNO, type: ["rom", "pflash"], secure: YESNO, format: ["raw", "qcow2"] },
          text: firmware,
          check: (el) =>
            el["@type"] === "pflash" && el["@readonly"] !== "yes"
              ? "a pflash loader must be readonly='yes'"
              : null,
        },
        nvram: {
          attrs: { template: firmware, format: ["raw", "qcow2"] },
          text: (v, c) => (v === c.nvram ? null : `nvram ${v} must be ${c.nvram} (or left out)`),
        },
        firmware: {
          children: { feature: { attrs: { enabled: YESNO, name: ["enrolled-keys", "secure-boot"] } } },
        },
        kernel: { text: (v, c) => c.bootFile(v) },
        initrd: { text: (v, c) => c.bootFile(v) },
        cmdline: { text: ANY },
        boot: { attrs: { dev: ["hd", "cdrom", "network", "fd"] } },
        bootmenu: { attrs: { enable: YESNO, timeout: INT } },
        smbios: { attrs: { mode: ["emulate", "sysinfo"] } },
        bios: { attrs: { useserial: YESNO, rebootTimeout: SINT } },
      },
    },
    features: {
      children: {
        acpi: {},
        apic: { attrs: { eoi: ONOFF } },
        pae: {},
        hap: { attrs: STATE },
        viridian: {},
        privnet: {},
        ...state(["pvspinlock", "vmport", "smm", "vmcoreinfo", "htm"]),
        ioapic: { attrs: { driver: ["kvm", "qemu"] } },
        msrs: { attrs: { unknown: ["ignore", "fault"] } },
        kvm: { children: state(["hidden", "hint-dedicated", "poll-control", "pv-ipi"]) },
        hyperv: {
          attrs: { mode: ["custom", "passthrough"] },
          children: {
            ...state([
              "relaxed",
              "vapic",
              "vpindex",
              "runtime",
              "synic",
              "reset",
              "frequencies",
              "reenlightenment",
              "tlbflush",
              "ipi",
              "evmcs",
              "avic",
            ]),
            spinlocks: { attrs: { state: ONOFF, retries: INT } },
            stimer: { attrs: STATE, children: { direct: { attrs: STATE } } },
            vendor_id: { attrs: { state: ONOFF, value: /^[A-Za-z0-9]{1,12}$/ } },
          },
        },
      },
    },
    cpu: {
      attrs: {
        mode: ["custom", "host-model", "host-passthrough", "maximum"],
        match: ["minimum", "exact", "strict"],
        check: ["none", "partial", "full"],
        migratable: ONOFF,
      },
      children: {
        model: { attrs: { fallback: ["allow", "forbid"], vendor_id: /^[A-Za-z0-9]{12}$/ }, text: TOKEN },
        vendor: { text: TOKEN },
        topology: { attrs: { sockets: INT, dies: INT, clusters: INT, cores: INT, threads: INT } },
        feature: { attrs: { policy: ["force", "require", "optional", "disable", "forbid"], name: TOKEN } },
        cache: { attrs: { mode: ["emulate", "passthrough", "disable"], level: INT } },
      },
    },
    clock: {
      attrs: {
        offset: ["utc", "localtime", "variable"],
        adjustment: /^(reset|-?\d{1,12})$/,
        basis: ["utc", "localtime"],
      },
      children: {
        timer: {
          attrs: {
            name: ["platform", "pit", "rtc", "hpet", "tsc", "kvmclock", "hypervclock", "armvtimer"],
            present: YESNO,
            tickpolicy: ["delay", "catchup", "merge", "discard"],
            track: ["boot", "guest", "wall", "realtime"],
            frequency: BIG,
            mode: ["auto", "native", "emulate", "paravirt", "smpsafe"],
          },
          children: { catchup: { attrs: { threshold: INT, slew: INT, limit: INT } } },
        },
      },
    },
    on_poweroff: { text: ["destroy", "restart", "preserve", "rename-restart"] },
    on_reboot: { text: ["destroy", "restart", "preserve", "rename-restart"] },
    on_crash: {
      text: (v) =>
        ["destroy", "restart", "preserve", "rename-restart"].includes(v)
          ? null
          : `${v} is not allowed: a crash may destroy, restart or preserve the guest (no host core dumps)`,
    },
    pm: {
      children: {
        "suspend-to-mem": { attrs: { enabled: YESNO } },
        "suspend-to-disk": { attrs: { enabled: YESNO } },
      },
    },
    seclabel: { attrs: { type: ["dynamic"], model: ["dac", "apparmor", "selinux"], relabel: ["yes"] } },
    devices: DEVICES_RULE,
  },
};

/** Everything in a parsed `<domain>` element that the allowlist does not accept; empty when all of it is. */
export function allowlistRefusals(domain: unknown, c: AllowContext): Refusal[] {
  const out: Refusal[] = [];
  walkRule(domain, DOMAIN_RULE, "domain", c, out);
  return out;
}
