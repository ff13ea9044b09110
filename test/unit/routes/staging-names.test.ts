// The staging front's name mapping: DNS labels kept, every other name encoded exactly and reversibly.
import { describe, expect, test } from "bun:test";
import { berthNameOf, stagingNameOf } from "../../../src/core/fronts/staging.ts";

describe("berthNameOf", () => {
  test("a DNS label without '--' is its own berth name", () => {
    for (const n of ["ns", "web-1", "a", "x".repeat(63)]) expect(berthNameOf(n)).toBe(n);
  });

  test("any other name is s-- and its characters with . _ - and capitals escaped (golden)", () => {
    expect(berthNameOf("ns.example.com")).toBe("s--ns-dexample-dcom");
    expect(berthNameOf("ns_example_com_vlan_10")).toBe("s--ns-uexample-ucom-uvlan-u10");
    expect(berthNameOf("Web.Example")).toBe("s---cweb-d-cexample");
    expect(berthNameOf("a--b")).toBe("s--a-h-hb");
    expect(berthNameOf("s--x")).toBe("s--s-h-hx");
    expect(berthNameOf("-lead")).toBe("s---hlead");
    expect(berthNameOf("trail-")).toBe("s--trail-h");
    expect(berthNameOf("ns.example.com.")).toBe("s--ns-dexample-dcom-d");
  });

  test("names with other characters, empty, over 253 or too long once encoded have none", () => {
    for (const n of ["", "a b", "a/b", "a;rm -rf /", "é", "$(x)", "x".repeat(254), "a.".repeat(21)]) {
      expect(berthNameOf(n)).toBeNull();
    }
    expect(berthNameOf("a.".repeat(19))).toHaveLength(60);
  });
});

describe("stagingNameOf", () => {
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
    for (const n of names) expect(stagingNameOf(berthNameOf(n) as string)).toBe(n);
  });

  test("native names, and s-- names this front would not have written, show as they are", () => {
    for (const n of ["web-1", "default", "s--abc", "s--a-zb", "s--a-hb", "s--a-c", "s--a-c1", "s---cweb-"]) {
      expect(stagingNameOf(n)).toBe(n);
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
    const berth = names.map(berthNameOf);
    expect(new Set(berth).size).toBe(names.length);
  });
});
