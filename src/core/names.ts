// Names people give resources: DNS labels (VMs, networks, images), and generated ones when omitted.
import { BadRequest } from "../errors.ts";

import { DNS_LABEL } from "../patterns.ts";

export { DNS_LABEL };

const DNS_LABEL_RE = new RegExp(DNS_LABEL);

export function checkName(kind: string, name: string): string {
  if (!DNS_LABEL_RE.test(name)) {
    throw new BadRequest(
      `${kind} name ${JSON.stringify(name)} is invalid: use 1-63 lowercase letters, digits and '-', not at either end`,
    );
  }
  return name;
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
