// The staging agent's host and network names: verbatim libvirt names, and those older berths stored encoded.

import { getNetworkRow } from "../../db/networks.ts";
import { vmNameTaken } from "../../db/vms.ts";
import { BadRequest, Conflict, NotFound } from "../../errors.ts";
import type { Core } from "../context.ts";
import { checkName, isName } from "../names.ts";

/**
 * Before berth took hostnames, a staging name that was not a DNS label without "--" was stored as `s--`
 * + its characters with `.`→`-d`, `_`→`-u`, `-`→`-h` and a capital X→`-cx` (`ns.example.com` ↔
 * `s--ns-dexample-dcom`). New hosts and networks are named verbatim; these functions only find and
 * show the ones made then.
 */
const OLD_STAGING_NAME = /^[A-Za-z0-9._-]{1,253}$/;
const PLAIN = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const PREFIX = "s--";
const ESCAPES: Record<string, string> = { ".": "-d", _: "-u", "-": "-h" };
const UNESCAPES: Record<string, string> = { d: ".", u: "_", h: "-" };

/** The name an older berth gave a staging name, or null when it had none (bad characters, or too long). */
export function legacyNameOf(name: string): string | null {
  if (!OLD_STAGING_NAME.test(name)) return null;
  if (PLAIN.test(name) && !name.includes("--")) return name;
  let out = PREFIX;
  for (const ch of name) {
    out += ESCAPES[ch] ?? (ch >= "A" && ch <= "Z" ? `-c${ch.toLowerCase()}` : ch);
  }
  return out.length <= 63 ? out : null;
}

/** The staging name an older berth's encoded name stands for; any other name is itself. */
export function decodeLegacyName(berthName: string): string {
  if (!berthName.startsWith(PREFIX)) return berthName;
  let out = "";
  const body = berthName.slice(PREFIX.length);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== "-") {
      out += ch;
      continue;
    }
    const code = body[++i] ?? "";
    if (code === "c" && /^[a-z]$/.test(body[i + 1] ?? "")) out += (body[++i] as string).toUpperCase();
    else if (code in UNESCAPES) out += UNESCAPES[code];
    else return berthName; // not an encoding berth wrote: a native name shown as it is
  }
  // Only a name the old front would have written decodes; anything else keeps its berth name.
  return legacyNameOf(out) === berthName ? out : berthName;
}

type Kind = "host" | "network";

function exists(core: Core, kind: Kind, name: string): boolean {
  return kind === "host" ? vmNameTaken(core.db, name) : getNetworkRow(core.db, name) !== null;
}

const coreKind = (kind: Kind) => (kind === "host" ? "vm" : "network");

/**
 * The berth name of an existing host or network: itself when berth has it, else the old encoded name
 * when berth has that; a name with neither is itself (core answers 404), or 404 when no berth name can be it.
 */
export function existingName(core: Core, kind: Kind, name: string): string {
  const verbatim = isName(coreKind(kind), name);
  if (verbatim && exists(core, kind, name)) return name;
  const old = legacyNameOf(name);
  if (old !== null && old !== name && exists(core, kind, old)) return old;
  if (verbatim) return name;
  throw new NotFound(`${kind} ${name} does not exist`);
}

/**
 * The berth name of a new host or network: the name itself. Taken when an older berth holds it encoded;
 * a name that reads as such an encoding is refused, so a listing never shows two hosts by one name.
 */
export function newName(core: Core, kind: Kind, name: string): string {
  checkName(coreKind(kind), name, kind);
  if (decodeLegacyName(name) !== name) {
    throw new BadRequest(
      `${kind} name ${name} is reserved: older berth versions stored ${decodeLegacyName(name)} so`,
    );
  }
  const old = legacyNameOf(name);
  if (old !== null && old !== name && exists(core, kind, old)) {
    throw new Conflict(`${kind} ${name} already exists (as ${old}, made by an older berth version)`);
  }
  return name;
}

/** The name the agent's clients know a berth host or network by: old encodings decoded, unless that name is taken. */
export function stagingNameOf(core: Core, kind: Kind, berthName: string): string {
  const decoded = decodeLegacyName(berthName);
  return decoded === berthName || exists(core, kind, decoded) ? berthName : decoded;
}
