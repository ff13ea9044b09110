// Parses the command line with node:util's parseArgs: one option table, each command says which options it takes.
import { parseArgs } from "node:util";

/** Every option any command takes; a command refuses the ones it does not list (usage error). */
export const OPTIONS = {
  config: { type: "string", short: "c" },
  url: { type: "string" },
  "token-file": { type: "string" },
  json: { type: "boolean" },
  format: { type: "string" },
  wait: { type: "boolean" },
  "no-wait": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  out: { type: "string" },
  state: { type: "string" },
  tag: { type: "string", multiple: true },
  project: { type: "string" },
  name: { type: "string" },
  profile: { type: "string" },
  image: { type: "string" },
  size: { type: "string" },
  cpus: { type: "string" },
  memory: { type: "string" },
  disk: { type: "string" },
  network: { type: "string", multiple: true },
  "ssh-key": { type: "string", multiple: true },
  "no-start": { type: "boolean" },
  force: { type: "boolean" },
  timeout: { type: "string" },
  inactive: { type: "boolean" },
  lifetime: { type: "string" },
  kind: { type: "string" },
  file: { type: "string" },
  from: { type: "string" },
  sha256: { type: "string" },
  user: { type: "string" },
  type: { type: "string" },
  target: { type: "string" },
  bridge: { type: "string" },
  vlan: { type: "string" },
  trunk: { type: "string" },
  subnet: { type: "string" },
  mode: { type: "string" },
  "vm-size": { type: "string" },
  alias: { type: "string", multiple: true },
  "ready-check": { type: "string" },
  tier: { type: "string" },
} as const;

export type OptionName = keyof typeof OPTIONS;
export type Values = Partial<Record<OptionName, string | boolean | string[]>>;

export interface Parsed {
  positionals: string[];
  values: Values;
}

/** Throws (a usage error) on an unknown option or a missing option value. */
export function parseCli(argv: string[]): Parsed {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: OPTIONS,
  });
  return { positionals, values: values as Values };
}

/** What each option means, for `berth <command> --help` (a value's name first when it takes one). */
export const OPTION_HELP: Record<OptionName, string> = {
  config: "FILE  berth.toml whose listen address is the default URL",
  url: "URL  berth's API (default BERTH_URL, else the config's listen address)",
  "token-file": "FILE  read the token from FILE (default BERTH_TOKEN)",
  json: "print the API's answer as JSON",
  format: "FMT  table (default), json, yaml or csv",
  wait: "wait for the work to end (with progress)",
  "no-wait": "print the operation and return at once",
  help: "this help",
  version: "the client's and the server's versions",
  out: "DIR  where to build",
  state: "STATE  creating, running, stopped, paused, error or gone",
  tag: "KEY[=VALUE]  a tag (repeat on create)",
  project: "NAME  the project",
  name: "NAME  exact name",
  profile: "NAME  a profile",
  image: "NAME  an image",
  size: "N|NAME  a pool's VM count; a VM's named size",
  cpus: "N  vCPUs",
  memory: "MIB  memory in MiB",
  disk: "GB  root disk size",
  network: "NAME  a network (repeat)",
  "ssh-key": "KEY  an authorized ssh key (repeat)",
  "no-start": "define it without starting it",
  force: "stop hard when the guest ignores ACPI",
  timeout: "SECONDS  how long to wait",
  inactive: "the persistent definition",
  lifetime: "HOURS  how long checked-out VMs live",
  kind: "KIND  disk, iso or kernel",
  file: "PATH  a local file to upload",
  from: "URL|PATH  what berth fetches: an http(s) URL or a host path in [images] import_dirs",
  sha256: "HEX  the checksum the bytes must have",
  user: "NAME  the user (default $USER)",
  type: "A,B  only these event types",
  target: "A,B  only events about these targets (vm/NAME, pool/NAME, …)",
  bridge: "NAME  the bridge",
  vlan: "N  the access VLAN tag",
  trunk: "A,B  VLAN tags of a trunk port",
  subnet: "CIDR  a NAT network's IPv4 subnet",
  mode: "MODE  ovs (default) or nat",
  "vm-size": "NAME  the named size of the pool's VMs",
  alias: "NAME  another name for the pool (repeat)",
  "ready-check": "CHECK  running, ip or tcp:PORT",
  tier: "TIER  how ready VMs wait: running, paused or saved",
};

/** Options every API command takes. */
export const GLOBAL: OptionName[] = ["config", "url", "token-file", "json", "format", "help"];

export const str = (v: Values, k: OptionName): string | undefined => {
  const x = v[k];
  return typeof x === "string" ? x : undefined;
};
export const list = (v: Values, k: OptionName): string[] => {
  const x = v[k];
  return Array.isArray(x) ? x : typeof x === "string" ? [x] : [];
};
