// The building blocks of berth's allowlist of domain XML: the rule shape, value checks, and the walker that applies a rule.
import { isAbsolute, normalize } from "node:path";
import { ATTR, isNode, listOf, textOf, type XmlNode } from "./codec.ts";

/** What a value is checked against; berth fills it from its config and records. */
export interface AllowContext {
  /** Allowed values of `<domain type>`. */
  types: readonly string[];
  /** berth's networks: the only ones an interface may join. */
  networks: ReadonlySet<string>;
  /** The host's default emulators (libvirt's capabilities); empty when it names none. */
  emulators: ReadonlySet<string>;
  /** Graphics need a password (berth runs with auth on). */
  graphicsPassword: boolean;
  /** Why a kernel/initrd path may not be used, or null. */
  bootFile(path: string): string | null;
  /** Why a serial/console log file may not be used, or null. */
  consoleLog(path: string): string | null;
  /** The exact NVRAM file this VM may have. */
  nvram: string;
  /** Why a disk (its `<disk>` element) may not be used as written, or null; sees the source, driver and chain. */
  disk(el: XmlNode, at: string): string | null;
}

/** A check of one value: null when allowed, else why not (the caller names the element or attribute). */
export type Check = (value: string, c: AllowContext) => string | null;
export type Value = readonly string[] | RegExp | Check;

export interface Rule {
  attrs?: Record<string, Value>;
  /** Allowed text content; without it only whitespace is. */
  text?: Value;
  children?: Record<string, Rule | (() => Rule)>;
  /** A rule on the element as a whole (values that depend on each other). */
  check?: (el: XmlNode, c: AllowContext, at: string) => string | null;
  /** Its contents are the user's own data, never read by libvirt (metadata). */
  opaque?: true;
}

export const INT = /^\d{1,10}$/;
export const SINT = /^-?\d{1,10}$/;
export const NUM = /^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/;
export const BIG = /^\d{1,20}$/;
export const TOKEN = /^[A-Za-z0-9][A-Za-z0-9_.+:-]{0,63}$/;
export const YESNO = ["yes", "no"] as const;
export const ONOFF = ["on", "off"] as const;
export const STATE = { state: ONOFF };
export const UNIT = /^(b|bytes|KB|k|KiB|MB|M|MiB|GB|G|GiB|TB|T|TiB)$/i;
export const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
export const ANY: Check = () => null;
export const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
export const FIRMWARE_DIRS = [
  "/usr/share/OVMF/",
  "/usr/share/ovmf/",
  "/usr/share/AAVMF/",
  "/usr/share/edk2/",
  "/usr/share/qemu/",
  "/usr/share/seabios/",
];

/** An absolute, normalised path: no relative parts anywhere (QEMU's working directory is /). */
export function absolutePath(path: string): boolean {
  return isAbsolute(path) && normalize(path) === path && !path.split("/").includes("..");
}

export const firmware: Check = (v) =>
  absolutePath(v) && FIRMWARE_DIRS.some((d) => v.startsWith(d))
    ? null
    : `${v} is not a firmware file of ${FIRMWARE_DIRS.join(", ")}`;
export const loopback: Check = (v) =>
  LOOPBACK.has(v) ? null : `${v} is not a loopback address: graphics listen on loopback only`;

export interface Refusal {
  /** Where: `domain/devices/disk/driver@type`. */
  at: string;
  message: string;
}

function allowed(value: string, v: Value, c: AllowContext): string | null {
  if (Array.isArray(v)) return v.includes(value) ? null : `${value} is not one of ${v.join(", ")}`;
  if (v instanceof RegExp) return v.test(value) ? null : `${value} is not allowed`;
  return (v as Check)(value, c);
}

export function walkRule(el: unknown, rule: Rule, at: string, c: AllowContext, out: Refusal[]): void {
  if (rule.opaque) return;
  const node: XmlNode = isNode(el) ? el : {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "#text") continue;
    if (k.startsWith(ATTR)) {
      const name = k.slice(ATTR.length);
      const where = `${at}@${name}`;
      // Namespace declarations only on the root: namespaced elements are refused anyway.
      if (at === "domain" && /^xmlns(:[A-Za-z_][\w.-]*)?$/.test(name)) continue;
      const check = rule.attrs?.[name];
      if (check === undefined) out.push({ at: where, message: `${where} is not allowed` });
      else {
        const why = allowed(String(v), check, c);
        if (why) out.push({ at: where, message: `${where}: ${why}` });
      }
      continue;
    }
    const child = rule.children?.[k];
    for (const one of listOf(v)) {
      const where = `${at}/${k}`;
      if (child === undefined) {
        out.push({ at: where, message: `<${where}> is not allowed` });
        continue;
      }
      walkRule(one, typeof child === "function" ? child() : child, where, c, out);
    }
  }
  const text = textOf(el)?.trim() ?? "";
  if (text !== "") {
    if (rule.text === undefined) out.push({ at, message: `text in <${at}> is not allowed` });
    else {
      const why = allowed(text, rule.text, c);
      if (why) out.push({ at, message: `<${at}> ${why}` });
    }
  }
  const why = rule.check?.(node, c, at);
  if (why) out.push({ at, message: `<${at}> ${why}` });
}
