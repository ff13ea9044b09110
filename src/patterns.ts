// Name patterns shared by the config schema and the API: one definition of what a name may be.

/** RFC 1123 label: 1–63 of a-z, 0-9 and "-", not starting or ending with "-". */
export const DNS_LABEL = "^(?!-)[a-z0-9-]{1,63}(?<!-)$";

/** One hostname label: 1–63 letters, digits, "-" and "_" (real platforms use it), no "-" at either end. */
const LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";

/**
 * A project's name: one such label (Kahu's tenant ids `0`, `1`, `acme` fit), compared exactly; every VM
 * belongs to one, `default` unless it was created in or moved to another.
 */
export const PROJECT_NAME = `^${LABEL}$`;
export const PROJECT_NAME_MAX = 63;
export const DEFAULT_PROJECT = "default";

/** A hostname: labels joined by single dots, so no empty label, no "..", no leading dot or "-". */
export const HOSTNAME = `^${LABEL}(?:\\.${LABEL})*$`;
export const HOSTNAME_MAX = 253;

/**
 * VMs and networks are named as hostnames, bounded by what libvirt can store (measured on libvirt 9):
 * `<name>.xml.new` and dnsmasq's `<name>.hostsfile` must fit a 255-byte file name.
 */
export const LIBVIRT_NAME_MAX = 245;

/** Pool names and aliases: vmpooler's platform names (`debian-7-x86_64`, `win-2019_x86_64`), hostname-shaped. */
export const POOL_NAME_MAX = 63;
