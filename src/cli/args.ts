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
  lines: { type: "string" },
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
