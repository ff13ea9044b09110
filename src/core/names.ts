// Names people give resources: hostnames (VMs, networks), platform names (pools), DNS labels (the rest), generated ones.
import { BadRequest } from "../errors.ts";

import {
  DNS_LABEL,
  HOSTNAME,
  HOSTNAME_MAX,
  LIBVIRT_NAME_MAX,
  POOL_NAME_MAX,
  PROJECT_NAME,
  PROJECT_NAME_MAX,
} from "../patterns.ts";

export { DNS_LABEL, HOSTNAME, HOSTNAME_MAX, LIBVIRT_NAME_MAX, POOL_NAME_MAX };

const DNS_LABEL_RE = new RegExp(DNS_LABEL);
const HOSTNAME_RE = new RegExp(HOSTNAME);

interface Rule {
  max: number;
  re: RegExp;
  says: string;
}

const LABEL_RULE: Rule = {
  max: 63,
  re: DNS_LABEL_RE,
  says: "use 1-63 lowercase letters, digits and '-', not at either end",
};
const HOST_SAYS = "dot-separated labels of 1-63 letters, digits, '-' and '_' (no '-' at a label's ends)";
const LIBVIRT_RULE: Rule = {
  max: LIBVIRT_NAME_MAX,
  re: HOSTNAME_RE,
  says: `use a hostname of at most ${LIBVIRT_NAME_MAX} characters (libvirt's file names bound it): ${HOST_SAYS}`,
};
const POOL_RULE: Rule = {
  max: POOL_NAME_MAX,
  re: HOSTNAME_RE,
  says: `use at most ${POOL_NAME_MAX} characters: ${HOST_SAYS}, e.g. debian-7-x86_64`,
};

const PROJECT_RULE: Rule = {
  max: PROJECT_NAME_MAX,
  re: new RegExp(PROJECT_NAME),
  says: "use 1-63 letters, digits, '-' and '_', no '-' at either end (e.g. default, 0, acme)",
};

/** Which rule each kind of name follows: the one place that says it. */
const RULES = {
  vm: LIBVIRT_RULE,
  network: LIBVIRT_RULE,
  pool: POOL_RULE,
  alias: POOL_RULE,
  image: LABEL_RULE,
  size: LABEL_RULE,
  profile: LABEL_RULE,
  disk: LABEL_RULE,
  snapshot: LABEL_RULE,
  project: PROJECT_RULE,
} as const satisfies Record<string, Rule>;

export type NameKind = keyof typeof RULES;

/** Whether `name` is a valid name of this kind (length first, so no regex runs on a huge string). */
export function isName(kind: NameKind, name: string): boolean {
  const rule: Rule = RULES[kind];
  return name.length >= 1 && name.length <= rule.max && rule.re.test(name);
}

/** A hostname (RFC 1123 with '_' and either case): at most 253 characters, labels 1-63. */
export function isHostname(name: string): boolean {
  return name.length >= 1 && name.length <= HOSTNAME_MAX && HOSTNAME_RE.test(name);
}

/** The name, or a 400 saying the rule; `what` is how the caller's API calls the thing (a staging "host"). */
export function checkName(kind: NameKind, name: string, what: string = kind): string {
  if (!isName(kind, name)) {
    throw new BadRequest(`${what} name ${JSON.stringify(name)} is invalid: ${RULES[kind].says}`);
  }
  return name;
}

/**
 * A DNS label standing for a name (lowercase; `_`, `.` and runs of them become one "-"), at most `max`
 * characters: pool VMs' host names start with their pool's, and must stay labels whatever the pool is called.
 */
export function labelOf(name: string, max = 40): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, max)
    .replace(/^-+|-+$/g, "");
  return label === "" ? "vm" : label;
}

const WORDS = [
  "amber",
  "birch",
  "cedar",
  "delta",
  "ember",
  "fjord",
  "grove",
  "heron",
  "iris",
  "juniper",
  "kestrel",
  "larch",
];

/** "vm-cedar-7f3a2c": readable, and unique enough that the caller's uniqueness check rarely loops. */
export function generateName(prefix: string): string {
  const word = WORDS[Math.floor(Math.random() * WORDS.length)];
  const suffix = crypto
    .getRandomValues(new Uint8Array(3))
    .reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
  return `${prefix}-${word}-${suffix}`;
}

export function newId(): string {
  return crypto.randomUUID();
}
