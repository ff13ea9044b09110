// The names older berths gave staging hosts and networks (`s--` encodings): still found and shown by their staging names.
import { describe, expect, test } from "bun:test";
import { decodeLegacyName, legacyNameOf } from "../../../src/core/fronts/staging-names.ts";

describe("legacyNameOf", () => {
  test("a DNS label without '--' is its own berth name", () => {
    for (const n of ["ns", "web-1", "a", "x".repeat(63)]) expect(legacyNameOf(n)).toBe(n);
  });

  test("any other name is s-- and its characters with . _ - and capitals escaped (golden)", () => {
    expect(legacyNameOf("ns.example.com")).toBe("s--ns-dexample-dcom");
    expect(legacyNameOf("ns_example_com_vlan_10")).toBe("s--ns-uexample-ucom-uvlan-u10");
    expect(legacyNameOf("Web.Example")).toBe("s---cweb-d-cexample");
    expect(legacyNameOf("a--b")).toBe("s--a-h-hb");
    expect(legacyNameOf("s--x")).toBe("s--s-h-hx");
    expect(legacyNameOf("-lead")).toBe("s---hlead");
    expect(legacyNameOf("trail-")).toBe("s--trail-h");
    expect(legacyNameOf("ns.example.com.")).toBe("s--ns-dexample-dcom-d");
  });

  test("names with other characters, empty, over 253 or too long once encoded have none", () => {
    for (const n of ["", "a b", "a/b", "a;rm -rf /", "é", "$(x)", "x".repeat(254), "a.".repeat(21)]) {
      expect(legacyNameOf(n)).toBeNull();
    }
    expect(legacyNameOf("a.".repeat(19))).toHaveLength(60);
  });
});

describe("decodeLegacyName", () => {
  test("round-trips every encoded name", () => {
    const names = [
      "ns",
      "ns.example.com",
      "ns_example_com_vlan_10",
      "Web.Example",
      "a--b",
      "s--x",
      "-lead",
      "A",
      "_",
    ];
    for (const n of names) expect(decodeLegacyName(legacyNameOf(n) as string)).toBe(n);
  });

  test("native names, and s-- names this front would not have written, show as they are", () => {
    for (const n of ["web-1", "default", "s--abc", "s--a-zb", "s--a-hb", "s--a-c", "s--a-c1", "s---cweb-"]) {
      expect(decodeLegacyName(n)).toBe(n);
    }
  });

  test("the mapping is injective: ns and ns.example.com (and look-alikes) never share a berth name", () => {
    const names = [
      "ns",
      "ns.example.com",
      "ns-example-com",
      "ns_example_com",
      "NS.example.com",
      "ns-dexample-dcom",
    ];
    const berth = names.map(legacyNameOf);
    expect(new Set(berth).size).toBe(names.length);
  });
});
