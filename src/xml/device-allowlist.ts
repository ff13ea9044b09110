// The allowlist of a domain's <devices>: disks on berth's volumes, NICs on berth's networks, pty consoles, loopback graphics.

import {
  type AllowContext,
  ANY,
  BIG,
  INT,
  loopback,
  NUM,
  ONOFF,
  type Rule,
  SINT,
  TOKEN,
  YESNO,
} from "./allowlist-rules.ts";
import type { XmlNode } from "./codec.ts";
import { isNode, listOf } from "./codec.ts";

const address: Rule = {
  attrs: {
    type: ["pci", "drive", "virtio-serial", "usb", "isa"],
    domain: NUM,
    bus: NUM,
    slot: NUM,
    function: NUM,
    multifunction: ONOFF,
    controller: INT,
    target: INT,
    unit: INT,
    port: /^\d{1,3}(\.\d{1,3}){0,4}$/,
    iobase: NUM,
    irq: NUM,
  },
};
const boot: Rule = { attrs: { order: INT } };

/** A disk's backing chain as berth writes it (the disk rule compares it with berth's records). */
const backingStore = (): Rule => ({
  attrs: { type: ["file"] },
  children: { format: { attrs: { type: ["qcow2", "raw"] } }, source: { attrs: { file: ANY } }, backingStore },
});

const iotune: Rule = {
  children: Object.fromEntries(
    [
      "total_bytes_sec",
      "read_bytes_sec",
      "write_bytes_sec",
      "total_iops_sec",
      "read_iops_sec",
      "write_iops_sec",
      "total_bytes_sec_max",
      "read_bytes_sec_max",
      "write_bytes_sec_max",
      "total_iops_sec_max",
      "read_iops_sec_max",
      "write_iops_sec_max",
      "total_bytes_sec_max_length",
      "read_bytes_sec_max_length",
      "write_bytes_sec_max_length",
      "total_iops_sec_max_length",
      "read_iops_sec_max_length",
      "write_iops_sec_max_length",
      "size_iops_sec",
    ].map((k) => [k, { text: BIG }]),
  ),
};

const disk: Rule = {
  attrs: { type: ["file"], device: ["disk", "cdrom"] },
  children: {
    driver: {
      attrs: {
        name: ["qemu"],
        type: ["qcow2", "raw"],
        cache: ["default", "none", "writethrough", "writeback", "directsync", "unsafe"],
        io: ["native", "threads", "io_uring", "default"],
        discard: ["unmap", "ignore"],
        detect_zeroes: ["off", "on", "unmap"],
        error_policy: ["stop", "report", "ignore", "enospace"],
        rerror_policy: ["stop", "report", "ignore"],
        copy_on_read: ONOFF,
        queues: INT,
        queue_size: INT,
      },
    },
    source: { attrs: { file: ANY } },
    backingStore,
    target: {
      attrs: {
        // The buses and names berth itself writes (and records); IDE (hdX) is not one of them.
        dev: /^(sd|vd)[a-z]{1,3}$/,
        bus: ["scsi", "virtio", "sata", "usb"],
        tray: ["open", "closed"],
        removable: ONOFF,
        rotation_rate: INT,
      },
    },
    readonly: {},
    shareable: {},
    serial: { text: /^[A-Za-z0-9_ .+-]{1,36}$/ },
    wwn: { text: /^(0x)?[0-9a-fA-F]{16}$/ },
    vendor: { text: /^[A-Za-z0-9 _.-]{1,8}$/ },
    product: { text: /^[A-Za-z0-9 _.-]{1,16}$/ },
    boot,
    address,
    iotune,
    blockio: { attrs: { logical_block_size: INT, physical_block_size: INT } },
    geometry: { attrs: { cyls: INT, heads: INT, secs: INT, trans: ["lba", "auto", "none"] } },
  },
  check: (el, c, at) => c.disk(el, at),
};

/** Character devices: a pty only (no host files, sockets, TCP/UDP ports or devices). */
const chardev = (target: Rule): Rule => ({
  attrs: {
    type: (v) => (v === "pty" ? null : `type ${v}: character devices are type='pty' only`),
  },
  children: {
    target,
    log: { attrs: { file: (v, c) => c.consoleLog(v), append: ONOFF } },
    address,
  },
});

const graphicsCheck = (el: XmlNode, c: AllowContext): string | null => {
  const listens = listOf(el.listen);
  const attr = typeof el["@listen"] === "string" ? el["@listen"] : null;
  const explicit =
    attr !== null ||
    (listens.length > 0 &&
      listens.every((l) => isNode(l) && (l["@type"] === "none" || typeof l["@address"] === "string")));
  if (!explicit) return "needs listen='127.0.0.1' (or ::1): graphics listen on loopback only";
  if (c.graphicsPassword && typeof el["@passwd"] !== "string")
    return "needs a passwd: with auth on, a console is never open to whoever reaches the port";
  return null;
};

/** Every device berth accepts; anything else is refused. */
export const DEVICES_RULE: Rule = {
  children: {
    emulator: {
      text: (v, c) =>
        c.emulators.has(v)
          ? null
          : `emulator ${v} is not the host's default (${[...c.emulators].join(", ")})`,
    },
    disk,
    controller: {
      attrs: {
        type: ["scsi", "usb", "pci", "ide", "sata", "virtio-serial", "fdc"],
        index: INT,
        model: /^[a-z0-9-]{1,32}$/,
        ports: INT,
        vectors: INT,
      },
      children: {
        address,
        driver: { attrs: { queues: INT, cmd_per_lun: INT, max_sectors: INT, ioeventfd: ONOFF } },
        model: { attrs: { name: /^[a-z0-9-]{1,32}$/ } },
        target: {
          attrs: { chassisNr: INT, chassis: INT, port: NUM, busNr: INT, index: INT, hotplug: ONOFF },
        },
        master: { attrs: { startport: INT } },
      },
    },
    interface: {
      attrs: {
        type: (v) => (v === "network" ? null : `type ${v}: use type='network' with a berth network`),
      },
      children: {
        mac: { attrs: { address: /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/ } },
        source: {
          attrs: {
            network: (v, c) => (c.networks.has(v) ? null : `network ${v} is not a berth network`),
          },
        },
        model: { attrs: { type: TOKEN } },
        driver: {
          attrs: { name: ["vhost", "qemu"], queues: INT, rx_queue_size: INT, tx_queue_size: INT },
        },
        // The names libvirt gives taps itself (and ignores when defining); no host interface by name.
        target: { attrs: { dev: /^(vnet|testnet)\d{1,5}$/ } },
        link: { attrs: { state: ["up", "down"] } },
        mtu: { attrs: { size: INT } },
        rom: { attrs: { bar: ONOFF, enabled: YESNO } },
        bandwidth: {
          children: Object.fromEntries(
            ["inbound", "outbound"].map((k) => [k, { attrs: { average: INT, peak: INT, burst: INT } }]),
          ),
        },
        boot,
        address,
      },
    },
    serial: chardev({
      attrs: { type: ["isa-serial", "usb-serial", "pci-serial", "system-serial"], port: INT },
      children: { model: { attrs: { name: TOKEN } } },
    }),
    console: chardev({ attrs: { type: ["serial", "virtio"], port: INT } }),
    parallel: chardev({ attrs: { port: INT } }),
    channel: chardev({ attrs: { type: ["virtio"], name: TOKEN } }),
    input: {
      attrs: { type: ["mouse", "keyboard", "tablet"], bus: ["ps2", "usb", "virtio"] },
      children: { address },
    },
    graphics: {
      attrs: {
        type: ["vnc", "spice"],
        port: SINT,
        tlsPort: SINT,
        websocket: SINT,
        autoport: YESNO,
        listen: loopback,
        passwd: ANY,
        keymap: TOKEN,
        sharePolicy: ["allow-exclusive", "force-shared", "ignore"],
        defaultMode: ["any", "secure", "insecure"],
        connected: ["keep", "disconnect", "fail"],
      },
      children: {
        listen: {
          attrs: {
            type: (v) =>
              v === "address" || v === "none" ? null : `listen type ${v}: only a loopback address or none`,
            address: loopback,
          },
        },
        image: { attrs: { compression: TOKEN } },
        streaming: { attrs: { mode: TOKEN } },
        clipboard: { attrs: { copypaste: YESNO } },
        mouse: { attrs: { mode: ["server", "client"] } },
      },
      check: graphicsCheck,
    },
    video: {
      children: {
        model: {
          attrs: {
            type: ["vga", "cirrus", "virtio", "qxl", "bochs", "ramfb", "none"],
            vram: INT,
            vram64: INT,
            ram: INT,
            vgamem: INT,
            heads: INT,
            primary: YESNO,
          },
        },
        address,
      },
    },
    sound: { attrs: { model: TOKEN }, children: { codec: { attrs: { type: TOKEN } }, address } },
    audio: {
      attrs: {
        id: INT,
        type: (v) => (v === "none" || v === "spice" ? null : `audio type ${v}: only none or spice`),
      },
    },
    memballoon: {
      attrs: {
        model: ["virtio", "virtio-transitional", "virtio-non-transitional", "none"],
        autodeflate: ONOFF,
        freePageReporting: ONOFF,
      },
      children: { address, stats: { attrs: { period: INT } } },
    },
    rng: {
      attrs: { model: ["virtio", "virtio-transitional", "virtio-non-transitional"] },
      children: {
        backend: {
          attrs: { model: ["random", "builtin"] },
          text: ["/dev/urandom", "/dev/random", "/dev/hwrng"],
        },
        rate: { attrs: { period: INT, bytes: INT } },
        address,
      },
    },
    watchdog: {
      attrs: {
        model: ["i6300esb", "ib700", "diag288", "itco"],
        action: (v) =>
          ["reset", "shutdown", "poweroff", "pause", "none", "inject-nmi"].includes(v)
            ? null
            : `action ${v} is not allowed (no host dumps)`,
      },
      children: { address },
    },
    panic: { attrs: { model: ["isa", "hyperv", "pvpanic"] }, children: { address } },
    hub: { attrs: { type: ["usb"] }, children: { address } },
  },
};
