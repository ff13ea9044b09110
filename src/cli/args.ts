// Parses the subcommand line with node:util's parseArgs (strict: unknown flags are errors).
import { parseArgs } from "node:util";

export interface Parsed {
  command: string[];
  config?: string;
  out?: string;
  help: boolean;
}

export function parseCli(argv: string[]): Parsed {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string", short: "c" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  return { command: positionals, config: values.config, out: values.out, help: values.help ?? false };
}

export const USAGE = `usage: berth <command> [--config FILE]

commands:
  serve            run the appliance (HTTP API, hypervisor workers)
  version          print berth's version
  config check     validate the configuration and exit 0, or print the errors and exit 1
  hash-password    read a password on stdin, print its argon2id hash (for [auth] users)
  vm console NAME  attach this terminal to a VM's serial console over the API (Ctrl-] leaves)
  demo-image       build the demo pool's tiny guest (kernel + busybox initramfs) from Debian
                   packages (apt-get download, dpkg-deb -x) into <data_dir>/demo, or --out DIR

The config file defaults to /etc/berth/berth.toml (BERTH_CONFIG overrides it).
Environment overrides: BERTH_LISTEN, BERTH_DATA_DIR, BERTH_HYPERVISOR_URI.`;
