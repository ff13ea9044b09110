// The name rules: hostnames for VMs and networks, vmpooler platform names for pools, labels for pool VMs.
import { describe, expect, test } from "bun:test";
import { checkName, isHostname, isName, LIBVIRT_NAME_MAX, labelOf } from "../../../src/core/names.ts";

const label = (n: number, ch = "a") => ch.repeat(n);
/** A hostname of exactly `n` characters made of 63-character labels (the last one shorter). */
function hostOf(n: number): string {
  const parts: string[] = [];
  let left = n;
  while (left > 0) {
    const take = Math.min(63, parts.length === 0 ? left : left - 1);
    parts.push(label(take));
    left -= take + (parts.length === 1 ? 0 : 1);
  }
  return parts.join(".");
}

describe("hostnames", () => {
  test("253 characters are a hostname, 254 are not", () => {
    expect(hostOf(253)).toHaveLength(253);
    expect(isHostname(hostOf(253))).toBe(true);
    expect(hostOf(254)).toHaveLength(254);
    expect(isHostname(hostOf(254))).toBe(false);
  });

  test("a label has 1-63 characters", () => {
    expect(isHostname(`${label(63)}.example.com`)).toBe(true);
    expect(isHostname(`${label(64)}.example.com`)).toBe(false);
    expect(isHostname(label(64))).toBe(false);
  });

  test("letters of either case, digits, '-' inside a label and '_' anywhere", () => {
    for (const n of [
      "ns.example.com",
      "web-1.staging.example.com",
      "Web.Example",
      "_dmarc.x",
      "a_b_",
      "1.2.3.4",
    ]) {
      expect({ n, ok: isHostname(n) }).toEqual({ n, ok: true });
    }
  });

  test("no empty label, no '..', no leading or trailing dot, no '-' at a label's ends, nothing else", () => {
    const bad = [
      "",
      ".",
      "..",
      "a..b",
      ".ns",
      "ns.",
      "../etc",
      "-lead",
      "trail-",
      "ns.-x",
      "ns.x-",
      "a b",
      "a/b",
      "é",
      "a;b",
      "$(x)",
      "a+b",
      "a\nb",
    ];
    for (const n of bad) expect({ n, ok: isHostname(n) }).toEqual({ n, ok: false });
  });
});

describe("checkName", () => {
  test("VM and network names are hostnames libvirt can store: at most 245 characters (400 beyond, saying why)", () => {
    expect(LIBVIRT_NAME_MAX).toBe(245);
    for (const kind of ["vm", "network"] as const) {
      expect(checkName(kind, "web-1.staging.example.com")).toBe("web-1.staging.example.com");
      expect(checkName(kind, hostOf(245))).toHaveLength(245);
      expect(() => checkName(kind, hostOf(246))).toThrow(/at most 245 characters \(libvirt's file names/);
      expect(() => checkName(kind, "a..b")).toThrow(/name "a..b" is invalid/);
    }
    expect(isName("network", "ns_example_com_vlan_10")).toBe(true);
  });

  test("pool names and aliases take vmpooler's platform names, up to 63 characters", () => {
    for (const n of ["debian-7-x86_64", "win-2019_x86_64", "centos-7.2-x86_64", "ubuntu-16.04-x86_64"]) {
      expect(checkName("pool", n)).toBe(n);
      expect(checkName("alias", n)).toBe(n);
    }
    expect(isName("pool", label(63))).toBe(true);
    expect(isName("pool", `${label(31)}.${label(31)}`)).toBe(true);
    expect(isName("pool", `${label(32)}.${label(31)}`)).toBe(false);
    for (const n of ["debian+7", "-x", "a..b", "a/b", ""]) expect(isName("pool", n)).toBe(false);
  });

  test("images, sizes, profiles, disks and snapshots stay lowercase DNS labels", () => {
    for (const kind of ["image", "size", "profile", "disk", "snapshot"] as const) {
      expect(checkName(kind, "web-1")).toBe("web-1");
      for (const n of ["a.b", "a_b", "Web", label(64)]) {
        expect(() => checkName(kind, n)).toThrow(/lowercase letters, digits and '-'/);
      }
    }
  });
});

describe("labelOf (pool VM host names)", () => {
  test("a platform name becomes a DNS label: lowercase, '_' and '.' as one '-', no '-' at the ends", () => {
    expect(labelOf("debian-7-x86_64")).toBe("debian-7-x86-64");
    expect(labelOf("win-2019_x86_64")).toBe("win-2019-x86-64");
    expect(labelOf("CentOS-7.2_x86_64")).toBe("centos-7-2-x86-64");
    expect(labelOf("_a__b._")).toBe("a-b");
    expect(labelOf("___")).toBe("vm");
  });

  test("at most 40 characters, never ending in '-'", () => {
    const l = labelOf(`${"a".repeat(39)}_b${"c".repeat(30)}`);
    expect(l).toBe("a".repeat(39));
    expect(labelOf("x".repeat(63))).toHaveLength(40);
    for (const n of ["debian-7-x86_64", "a_b.c", `${"q".repeat(39)}.zz`, "Z"]) {
      expect(isName("disk", labelOf(n))).toBe(true);
    }
  });
});
